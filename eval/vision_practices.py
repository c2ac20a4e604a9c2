"""Principled paper, Table 2: 3 x 800 MLP on CIFAR-10 trained with DFA under each practice.

Every practice row is trained with DFA for ``--seeds`` seeds and ``--epochs`` epochs (plus BP and
shallow rows for the main tanh setting), each cell one run of the runner, whose record is kept in
``eval/results/<table>/runs/`` (``--report-only`` tabulates those without training). Writes ``eval/results/vision_practices.{md,json}`` beside the paper's numbers.

    python eval/vision_practices.py [--seeds 3] [--epochs 10] [--row-epochs lrelu_neg/dfa=100 ...] [--quick]

A budget other than 10 epochs writes ``vision_practices_e<epochs>.{md,json}`` and the runner continues
the shorter runs' checkpoints (a constant-rate run extended equals one trained that long).
``--row-epochs`` gives some rows their own budget (e.g. the two rows at the paper's 5x smaller
rate), reusing that budget's cells, and writes ``vision_practices_e<epochs>_mixed.{md,json}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

import torch
from scipy.stats import spearmanr
from tqdm import tqdm
from vision_common import RESULTS, add_report_only, cached_cell, paper_rows, row_values, run_cell, summarise

from dfazoo.stats import format_pair as fmt
from dfazoo.vision.recipes import PRACTICES, mlp_cifar_recipe

# Paper Table 2: (train acc, align 1, align 2, align 3); test accuracy lives in PRACTICES.
PAPER_ROWS = paper_rows("table2")


RUN_TAG = "vision_practices"
DEFAULT_EPOCHS = 10


def budget_name(epochs: int) -> str:
    """Result name of a budget: the default 10 epochs is ``vision_practices``, others get ``_e<epochs>``."""
    return RUN_TAG if epochs == DEFAULT_EPOCHS else f"{RUN_TAG}_e{epochs}"


def rows(methods_for_main: tuple[str, ...] = ("bp", "shallow")) -> list[tuple[str, str]]:
    """(practice, method) rows: every practice with DFA, then BP and shallow for ``norm``."""
    return [(p, "dfa") for p in PRACTICES] + [("norm", m) for m in methods_for_main]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="budget; each has its own table")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="1 seed, 1 epoch on 2,000 images (smoke test)")
    parser.add_argument(
        "--practices", nargs="+", choices=list(PRACTICES), help="train and tabulate only these practices"
    )
    parser.add_argument(
        "--row-epochs", nargs="*", default=[], metavar="ROW=E", help="own budgets, e.g. lrelu_neg/dfa=100"
    )
    parser.add_argument("--only-seed", type=int, help="train only this seed (to run seeds in parallel)")
    add_report_only(parser)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = 1 if args.quick else args.seeds
    epochs = 1 if args.quick else args.epochs
    row_epochs = row_values([] if args.quick else args.row_epochs, row_keys(), epochs, "--row-epochs")
    mixed = len(set(row_epochs.values())) > 1
    name = "vision_practices_quick" if args.quick else budget_name(epochs) + ("_mixed" if mixed else "")
    # Seed-major order: every row gets its first seed before any row gets a second one.
    grid = [(p, m, s) for s in range(seeds) for p, m in rows() if not args.practices or p in args.practices]
    results: dict[tuple[str, str], list[dict]] = {}
    for practice, method, seed in tqdm(grid, desc="Table 2 cells"):
        row_budget = row_epochs[f"{practice}/{method}"]
        table = name if args.quick else budget_name(row_budget)
        recipe = mlp_cifar_recipe(practice, method, seed, row_budget)
        if args.quick:
            recipe = dataclasses.replace(recipe, task_config={**recipe.task_config, "train_subset": 2000})
        if args.report_only:
            if (cell := cached_cell(recipe, RESULTS / table / "runs")) is not None:
                results.setdefault((practice, method), []).append(cell)
            continue
        if args.only_seed is not None and seed != args.only_seed:
            continue
        # A longer budget continues a shorter one's checkpoint (constant rate: see dfazoo.train.runner).
        results.setdefault((practice, method), []).append(
            run_cell(recipe, RESULTS / table / "runs", args.data_root)
        )
    if not results:
        raise SystemExit(f"no runs recorded for {name}: run without --report-only first")
    write_tables(results, name, seeds, epochs, args.quick)


def row_keys() -> list[str]:
    """The rows as ``practice/method``, the names ``--row-epochs`` takes."""
    return [f"{p}/{m}" for p, m in rows()]


def _order(item: tuple[tuple[str, str], list[dict]]) -> int:
    return rows().index(item[0])


def write_tables(
    results: dict[tuple[str, str], list[dict]], name: str, seeds: int, epochs: int, quick: bool
) -> None:
    command = "python eval/vision_practices.py " + shlex.join(a for a in sys.argv[1:] if a != "--report-only")
    summary = {
        f"{p}/{m}": {
            "practice": p,
            "method": m,
            "epochs": sorted({x["epochs"] for x in c}),
            "best_epochs": [x.get("best_epoch") for x in c],
            **summarise(c),
        }
        for (p, m), c in sorted(results.items(), key=_order)
    }
    data_notes = next(c[0]["data_notes"] for c in results.values())
    lines = [
        "# Principled DFA, Table 2: 3 x 800 MLP on CIFAR-10, practices",
        "",
        f"Produced by `{command.strip()}`. Budget: {epochs} epoch(s) per run unless the epochs column says "
        f"otherwise (in brackets: each seed's best-validation epoch; one at the end of the budget means "
        f"the row was still improving), up to {seeds} seed(s) per row (column runs: how many finished) "
        f"(the paper: 10 runs, trained to convergence){'; QUICK smoke run on 2,000 images' if quick else ''}. "
        "SGD without momentum, batch 128, He init; DFA error summed over the batch "
        "(`error_reduction='sum'`, as the paper's code) with the paper's rates (5e-4; 1e-4 for |x| and "
        "lReLU(-0.5)); BP on the mean loss at lr 0.064 (= 128 x 5e-4); shallow trains only the top layer "
        "at 5e-4. Test/train accuracy (%) of the best-validation epoch (5,000 held-out train images), "
        "mean ± sample std over the row's runs (no ± for one run). Alignment: cosine between B_i e and the BP signal per sample on 128 "
        "training images, mean (std over samples), averaged over seeds.",
        "",
        f"Data: {data_notes}",
        "",
        "| practice | method | runs | epochs (best) | lr | test acc | train acc | align 1 | align 2 | align 3 | "
        "paper test | paper train | paper align 1/2/3 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, row in summary.items():
        practice, method = row["practice"], row["method"]
        label, _, lr, paper_test = PRACTICES[practice]
        lr_used = mlp_cifar_recipe(practice, method).optimizer["lr"]
        align = [f"{a['mean']:.2f} ({a['std']:.2f})" for a in row["alignment"].values()] or ["n/a"] * 3
        paper = PAPER_ROWS[practice] if method == "dfa" else None
        diverged = f" ({row['diverged']}/{row['runs']} diverged)" if row["diverged"] else ""
        lines.append(
            f"| {label} | {method}{diverged} | {row['runs']} | {'/'.join(map(str, row['epochs']))} "
            f"({', '.join('-' if b is None else str(b) for b in row['best_epochs'])}) | {lr_used:g} | "
            f"{fmt(*row['test_accuracy'])} | "
            f"{fmt(*row['train_accuracy'])} | {' | '.join(align)} | "
            f"{paper_test if paper else ''} | {paper[0] if paper else ''} | "
            f"{'/'.join(f'{a:.2f}' for a in paper[1:]) if paper else ''} |"
        )
        summary[key]["lr"] = lr_used
    dfa_rows = {r["practice"]: r["test_accuracy"][0] for r in summary.values() if r["method"] == "dfa"}
    ours = sorted(dfa_rows, key=lambda p: -dfa_rows[p])
    paper_rank = sorted(PRACTICES, key=lambda p: -PRACTICES[p][3])
    rho = (
        spearmanr([dfa_rows[p] for p in ours], [PRACTICES[p][3] for p in ours]).statistic
        if len(ours) > 2
        else None
    )
    lines += [
        "",
        f"Ranking by DFA test accuracy, measured: {' > '.join(PRACTICES[p][0] for p in ours)}",
        "",
        f"Ranking in the paper: {' > '.join(PRACTICES[p][0] for p in paper_rank)}",
        "",
        "Spearman rank correlation between the measured and the paper's DFA test accuracies over these "
        f"{len(ours)} practices (1 = the same ranking): {'n/a' if rho is None else f'{rho:.2f}'}",
        "",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(lines))
    payload = {
        "command": command.strip(),
        "epochs": epochs,
        "seeds": seeds,
        "rows": summary,
        "ranking": ours,
        "spearman_vs_paper": rho,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
