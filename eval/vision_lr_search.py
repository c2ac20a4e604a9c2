"""Learning-rate search for a vision zoo recipe, scored on its validation split only.

Trains the zoo recipe ``ID`` once per rate in ``--lrs`` (everything else as registered, for
``--epochs`` epochs, seed 0) and tabulates the best validation accuracy of each; the highest one is
the rate to put in the recipe. Test accuracy is never read here. Each rate is one run of the runner
(records in ``eval/results/vision_lr_search/runs/``). Writes ``eval/results/vision_lr_search/<ID>.{md,json}``.

    python eval/vision_lr_search.py ID --lrs 5e-4 5e-3 2e-2 [--epochs 20] [--report-only] [--quick]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys

import torch
from tqdm import tqdm
from vision_common import RESULTS, add_report_only, cached_cell, run_cell

from dfazoo.spec.registry import get_recipe


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_id", help="a vision zoo id, e.g. mlp3x800-mnist-dfa")
    parser.add_argument("--lrs", nargs="+", type=float, required=True, help="SGD learning rates to try")
    parser.add_argument("--epochs", type=int, default=20)
    add_report_only(parser)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 1,000 images (smoke test)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    base = get_recipe(args.model_id)
    if base.domain != "vision":
        raise SystemExit(f"{args.model_id} is a {base.domain} recipe; this search covers vision recipes")
    name = "vision_lr_search_quick" if args.quick else "vision_lr_search"
    epochs = 1 if args.quick else args.epochs
    cells = {}
    for lr in tqdm(args.lrs, desc=f"{args.model_id} rates"):
        recipe = dataclasses.replace(
            base, optimizer={**base.optimizer, "lr": lr}, epochs=epochs, seed=0, scheduler=None
        )
        if args.quick:
            recipe = dataclasses.replace(recipe, task_config={**recipe.task_config, "train_subset": 1000})
        records = RESULTS / name / "runs"
        cell = cached_cell(recipe, records) if args.report_only else run_cell(recipe, records, args.data_root)
        if cell is not None:
            cells[lr] = cell
    if not cells:
        raise SystemExit(f"no runs recorded in {RESULTS / name / 'runs'}: run without --report-only first")
    finished = {lr: c for lr, c in cells.items() if not c.get("diverged") and c["epochs"] >= epochs}
    best = max(finished, key=lambda lr: finished[lr]["val_accuracy"]) if finished else None
    given = sys.argv[1:] if argv is None else argv
    command = "python eval/vision_lr_search.py " + shlex.join(a for a in given if a != "--report-only")
    result = {
        "command": command.strip(),
        "model_id": args.model_id,
        "epochs": epochs,
        "best_lr": best,
        "cells": {
            f"{lr:g}": {
                k: c.get(k) for k in ("epochs", "diverged", "val_accuracy", "best_epoch", "wall_time")
            }
            for lr, c in cells.items()
        },
    }
    out = RESULTS / name
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.model_id}.json").write_text(json.dumps(result, indent=2) + "\n")
    table = render(result, base.optimizer["lr"])
    (out / f"{args.model_id}.md").write_text(table)
    print(table)
    return result


def render(result: dict, recipe_lr: float) -> str:
    lines = [
        f"# Learning-rate search: {result['model_id']}",
        "",
        f"Produced by `{result['command']}`: the registered recipe with only the SGD rate changed, "
        f"{result['epochs']} epoch(s), seed 0. Best validation accuracy (%) over the epochs (5,000 "
        "held-out train images) and its epoch; the choice reads validation accuracy only. The recipe's current "
        f"rate: {recipe_lr:g}.",
        "",
        "| lr | val acc | best epoch | wall time (s) |",
        "|---|---|---|---|",
    ]
    for lr, c in result["cells"].items():
        if c["diverged"]:
            lines.append(f"| {lr} | diverged | — | — |")
            continue
        mark = " **(best)**" if result["best_lr"] is not None and float(lr) == result["best_lr"] else ""
        unfinished = "" if c["epochs"] >= result["epochs"] else f" (only {c['epochs']} epochs)"
        lines.append(
            f"| {lr}{mark} | {c['val_accuracy']:.2f}{unfinished} | {c['best_epoch']} | {c['wall_time']:.0f} |"
        )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
