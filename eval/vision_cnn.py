"""Principled paper, Table 4: a 3-conv-layer CNN on CIFAR-10 trained with DFA under five practices.

Shows that the convolutions barely align (conv1 near 0) while the classifier does the work.
Each (row, seed) is one run of the runner (cached by its recipe, resumable; records in
``eval/results/vision_cnn/runs/``). The five practice rows use the setup found to work:
feedback points after each block's max-pooling and the classifier at ``BP_LR`` (see
:func:`cnn_cifar_recipe`); three ablation rows of "norm" show what each of the two choices is worth
(the paper's single rate, points before pooling, and both); and BP. Every row trains
``--epochs`` epochs and ``--seeds`` seeds unless ``--row-epochs ROW=E`` or ``--row-seeds ROW=N``
gives it its own; a finished run with fewer epochs is extended from its checkpoint. Writes
``eval/results/vision_cnn.{md,json}``.

    python eval/vision_cnn.py [--seeds 1] [--epochs 3] [--row-epochs norm/dfa=20 ...]
        [--row-seeds norm/dfa=3 ...] [--rows norm/dfa ...] [--report-only] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

import torch
from tqdm import tqdm
from vision_common import RESULTS, add_report_only, cached_cell, paper_rows, row_values, run_cell, summarise

from dfazoo.stats import format_pair as fmt
from dfazoo.vision.recipes import BP_LR, CNN_PRACTICES, cnn_cifar_recipe

# Paper Table 4 alignment, conv1 / conv2 / conv3 / classifier (test accuracy lives in CNN_PRACTICES).
PAPER_ALIGN = paper_rows("table4_alignment")
# Row key -> (practice, method, classifier lr or None for the recipe's single rate, feedback point).
ROWS: dict[str, tuple[str, str, float | None, str]] = {
    **{f"{p}/dfa": (p, "dfa", BP_LR, "pool") for p in CNN_PRACTICES},
    "norm/dfa-paper-lr": ("norm", "dfa", None, "pool"),
    "norm/dfa-before-pool": ("norm", "dfa", BP_LR, "activation"),
    "norm/dfa-before-pool-paper-lr": ("norm", "dfa", None, "activation"),
    "norm/bp": ("norm", "bp", None, "activation"),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per run (default budget)")
    parser.add_argument("--row-epochs", nargs="*", default=[], metavar="ROW=E", help="per-row budgets")
    parser.add_argument("--row-seeds", nargs="*", default=[], metavar="ROW=N", help="per-row seed counts")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), help="train and tabulate only these rows")
    add_report_only(parser)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 epoch on 1,000 images (smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    name = "vision_cnn_quick" if args.quick else "vision_cnn"
    seeds = (
        dict.fromkeys(ROWS, 1)
        if args.quick
        else row_values(args.row_seeds, list(ROWS), args.seeds, "--row-seeds")
    )
    budget = (
        dict.fromkeys(ROWS, 1)
        if args.quick
        else row_values(args.row_epochs, list(ROWS), args.epochs, "--row-epochs")
    )
    grid = [(r, s) for r in ROWS if not args.rows or r in args.rows for s in range(seeds[r])]
    results: dict[str, list[dict]] = {}
    finished: set[tuple[str, int]] = set()
    for row, seed in tqdm(grid, desc="Table 4 cells"):
        practice, method, classifier_lr, feedback_after = ROWS[row]
        recipe = cnn_cifar_recipe(practice, method, seed, budget[row], classifier_lr, feedback_after)
        if args.quick:
            recipe = dataclasses.replace(recipe, task_config={**recipe.task_config, "train_subset": 1000})
        cell = (
            cached_cell(recipe, RESULTS / name / "runs")
            if args.report_only
            else run_cell(recipe, RESULTS / name / "runs", args.data_root)
        )
        if cell is not None:
            results.setdefault(row, []).append(cell)
            finished.add((row, seed))
    if not results:
        raise SystemExit(f"no runs recorded in {RESULTS / name / 'runs'}: run without --report-only first")
    command = "python eval/vision_cnn.py " + shlex.join(a for a in sys.argv[1:] if a != "--report-only")
    summary = {}
    for row, cells in results.items():
        practice, method, classifier_lr, feedback_after = ROWS[row]
        summary[row] = {
            "practice": practice,
            "method": method,
            "classifier_lr": classifier_lr,
            "feedback_after": feedback_after,
            "epochs": sorted({c["epochs"] for c in cells}),
            "best_epochs": [c.get("best_epoch") for c in cells],
            "wall_time": [c.get("wall_time") for c in cells],
            **summarise(cells),
        }
    data_notes = next(c[0]["data_notes"] for c in results.values())
    lines = [
        "# Principled DFA, Table 4: CNN (3 conv layers + linear classifier, tanh) on CIFAR-10",
        "",
        f"Produced by `{command.strip()}`. Budget: the epochs column (epochs trained, and in brackets the "
        "best-validation epoch of each seed), the runs column the seeds per row (the paper: 10 runs to "
        "convergence)"
        f"{'; QUICK smoke run on 1,000 images' if args.quick else ''}. "
        "Net: conv 5x5 with 32/64/64 filters (padding 2), tanh, 3x3 max-pool stride 2 after each (then "
        "dropout in the DO rows), linear "
        "classifier; He init; SGD without momentum, batch 128, constant rate. DFA: lr 5e-4 with the error "
        "summed over the batch (`error_reduction='sum'`, as the paper's code), the classifier on the mean "
        f"loss at the same 5e-4 (`paper lr` rows) or at {BP_LR:g} (all other rows: {BP_LR:g} = "
        f"{BP_LR / 5e-4:g} x 5e-4, the same per-sample step as the summed-error DFA layers); BP: lr "
        f"{BP_LR:g} on the mean loss. "
        "Accuracy (%) at the best-validation epoch (5,000 held-out train images), mean ± sample std over the row's runs (no ± for one run). "
        "Feedback points, and alignment on 128 training images, at each block's output after its max-pooling "
        "(C x H x W flattened), or, in the `points before pooling` rows, at each conv output after tanh; "
        "mean (std over samples). The classifier is the top layer: it receives e itself under DFA, so "
        "its alignment is 1 by construction and is not measured here.",
        "",
        f"Data: {data_notes}",
        "",
        *unfinished_note(grid, finished),
        "| practice | method | runs | epochs (best) | test acc | train acc | conv1 | conv2 | conv3 | "
        "paper test | paper conv1/conv2/conv3/class. |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in summary.values():
        practice, method = row["practice"], row["method"]
        label, _, paper_test = CNN_PRACTICES[practice]
        if method == "dfa" and row["classifier_lr"] is None:
            label = f"{label}, paper lr"
        if method == "dfa" and row["feedback_after"] == "activation":
            label = f"{label}, points before pooling"
        align = [f"{a['mean']:.2f} ({a['std']:.2f})" for a in row["alignment"].values()] or ["n/a"] * 3
        is_dfa = method == "dfa"
        diverged = f" ({row['diverged']}/{row['runs']} diverged)" if row["diverged"] else ""
        paper_align = "/".join(f"{a:.2f}" for a in PAPER_ALIGN[practice]) if is_dfa else ""
        epochs = "/".join(map(str, row["epochs"]))
        best = ", ".join("-" if b is None else str(b) for b in row["best_epochs"])
        lines.append(
            f"| {label} | {method}{diverged} | {row['runs']} | {epochs} ({best}) | {fmt(*row['test_accuracy'])} | "
            f"{fmt(*row['train_accuracy'])} | {' | '.join(align)} | {paper_test if is_dfa else ''} | "
            f"{paper_align} |"
        )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    payload = {"command": command.strip(), "rows": summary}
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print("\n".join(lines))


def unfinished_note(grid: list[tuple[str, int]], finished: set[tuple[str, int]]) -> list[str]:
    """A line naming the cells the command asks for that have no finished run yet (none if complete)."""
    missing = [f"{row} seed {seed}" for row, seed in grid if (row, seed) not in finished]
    if not missing:
        return []
    return [
        f"Not finished yet (rerun the command to train them): {', '.join(missing)}.",
        "",
    ]


if __name__ == "__main__":
    main()
