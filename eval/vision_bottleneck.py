"""Principled paper, Figure 4: the bottleneck effect in a 3 x 800 tanh net trained with DFA.

Layer 2 keeps the gradient of only ``b`` of its 800 neurons (a fixed random mask drawn at init);
test accuracy and the layer-2 alignment are plotted against ``b``. The alignment is given over all
800 neurons and over the ``b`` kept ones ("alignment in the bottleneck", as the paper puts it),
the latter measured on each cell's best checkpoint; with ``--seeds N`` every value is the mean ± sample std
over N runs. Writes
``eval/results/vision_bottleneck.{json,png,md}``; each ``b`` is a cached, resumable cell.

    python eval/vision_bottleneck.py [--epochs 10] [--seeds 1] [--keeps 1 2 5 ...] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from tqdm import tqdm
from vision_common import RESULTS, cell_model, run_cell, summarise

from dfazoo import DFAModel, measure_alignment
from dfazoo.core.bottleneck import GradientMask
from dfazoo.spec import make_task
from dfazoo.spec.task import Task
from dfazoo.stats import format_pair as fmt
from dfazoo.stats import mean_std
from dfazoo.vision.recipes import bottleneck_recipe

KEEPS = (1, 5, 10, 25, 50, 100, 200, 800)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=1, help="runs per b (seed of init, mask and feedback)")
    parser.add_argument("--keeps", type=int, nargs="+", default=list(KEEPS))
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="b in {1, 100, 800}, 1 epoch on 2,000 images")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    name = "vision_bottleneck_quick" if args.quick else "vision_bottleneck"
    keeps = [1, 100, 800] if args.quick else sorted(args.keeps)
    epochs = 1 if args.quick else args.epochs
    seeds = 1 if args.quick else args.seeds
    task = None
    cells: dict[int, list[dict]] = {keep: [] for keep in keeps}
    for keep, seed in tqdm([(k, s) for k in keeps for s in range(seeds)], desc="bottleneck cells"):
        recipe = bottleneck_recipe(keep, seed=seed, epochs=epochs)
        if args.quick:
            recipe = dataclasses.replace(recipe, task_config={**recipe.task_config, "train_subset": 2000})
        cell = run_cell(recipe, RESULTS / name / "runs", args.data_root)
        if not cell.get("diverged"):
            task = task or make_task(recipe, args.data_root)
            cell = {**cell, "align_layer2_kept": kept_alignment(cell_model(recipe), task)}
        cells[keep].append(cell)
    points = [summarise_keep(keep, runs) for keep, runs in cells.items()]
    command = "python eval/vision_bottleneck.py " + shlex.join(sys.argv[1:])
    budget = f"{epochs} epoch(s), {seeds} seed(s){' on 2,000 images (QUICK)' if args.quick else ''}"
    payload = {
        "command": command.strip(),
        "epochs": epochs,
        "seeds": seeds,
        "setting": "3 x 800 tanh MLP, CIFAR-10, DFA, SGD lr 5e-3 (no momentum), batch 128, He init, "
        "error_reduction='sum'; layer 2 keeps the gradient of b neurons; alignment on 128 train images",
        "points": points,
    }
    (RESULTS / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
    plot(points, RESULTS / f"{name}.png", budget)
    lines = [
        "# Principled DFA, Figure 4: bottleneck in layer 2 of a 3 x 800 tanh net (CIFAR-10, DFA)",
        "",
        f"Produced by `{command.strip()}`; {payload['setting']}; budget {budget}. Accuracy at the "
        "best-validation epoch; every value is the mean ± sample std over the b's runs (no ± for one run; alignment: of each "
        "run's mean cosine over the 128 samples). The paper: accuracy and layer-2 alignment rise with b, then "
        f"plateau around b = 100. Plot: `{name}.png`. CIFAR-10 is the JPEG re-encoded copy.",
        "",
        "| b | runs | test acc (%) | train acc (%) | layer-2 alignment, all 800 | layer-2 alignment over the b "
        "kept neurons | layer 1 | layer 3 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in points:
        others = [a["mean"] for a in p["alignment"].values()][::2] or [float("nan")] * 2
        diverged = f" ({p['diverged']} diverged)" if p["diverged"] else ""
        lines.append(
            f"| {p['keep']} | {p['runs']}{diverged} | {fmt(*p['test_accuracy'])} | {fmt(*p['train_accuracy'])} | "
            f"{fmt(*p['align_layer2'], digits=3)} | {fmt(*p['align_layer2_kept'], digits=3)} | "
            f"{fmt(others[0], digits=3)} | {fmt(others[1], digits=3)} |"
        )
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def summarise_keep(keep: int, runs: list[dict]) -> dict:
    """One b: accuracy and layer-2 alignment (all neurons, kept ones) as mean and std over seeds."""
    summary = summarise(runs)
    ok = [c for c in runs if not c.get("diverged")]
    layer2 = list(summary["alignment"])[1:2]
    return {
        "keep": keep,
        **summary,
        "align_layer2": mean_std([c["alignment"][layer2[0]]["mean"] for c in ok] if layer2 else []),
        "align_layer2_kept": mean_std([c["align_layer2_kept"]["mean"] for c in ok]),
    }


def kept_alignment(model: DFAModel, task: Task) -> dict[str, float]:
    """Layer-2 alignment of a trained bottleneck net over the neurons that keep their gradient."""
    mask = next(m.mask for m in model.modules() if isinstance(m, GradientMask))
    layer2 = list(model.feedback_points())[1]
    inputs, targets, loss_fn = task.alignment_batch()
    return measure_alignment(model, inputs, targets, loss_fn, feature_masks={layer2: mask})[layer2]


def plot(points: list[dict], path: Path, budget: str) -> None:
    """Accuracy (left axis) and layer-2 alignment (right axis) against b; bars: sample std over seeds (none for one seed)."""
    plt.switch_backend("Agg")
    keeps = [p["keep"] for p in points]
    fig, ax = plt.subplots(figsize=(6, 4))
    finite: list[float] = []
    for key, fmt_, color, label in (
        ("test_accuracy", "o-", "tab:blue", "test accuracy"),
        ("train_accuracy", "o--", "tab:cyan", "train accuracy"),
    ):
        means, stds = zip(*((m, s or 0.0) for m, s in (p[key] for p in points)))
        ax.errorbar(keeps, means, yerr=stds, fmt=fmt_, color=color, label=label, capsize=2)
        finite += [m + sign * s for m, s in zip(means, stds) for sign in (-1, 1) if m == m]
    if finite:  # a fixed margin around the bars, so that run-to-run noise does not fill the axis
        ax.set_ylim(min(finite) - 5, max(finite) + 5)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("bottleneck size b (neurons of layer 2 keeping their gradient)")
    ax.set_ylabel("accuracy (%)", color="tab:blue")
    twin = ax.twinx()
    for key, fmt_, color, label in (
        ("align_layer2", "s--", "tab:red", "layer-2 alignment, all 800 neurons"),
        ("align_layer2_kept", "^:", "tab:orange", "layer-2 alignment, the b kept neurons"),
    ):
        means, stds = zip(*((m, s or 0.0) for m, s in (p[key] for p in points)))
        twin.errorbar(keeps, means, yerr=stds, fmt=fmt_, color=color, label=label, capsize=2)
    twin.legend(loc="center right", fontsize=8)
    twin.set_ylabel("layer-2 alignment (cosine)", color="tab:red")
    ax.set_title(f"Bottleneck effect, 3 x 800 tanh DFA, CIFAR-10 ({budget})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
