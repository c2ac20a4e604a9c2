"""Scaling paper Table 1 / A.5 (lego) and Figure A.1 at CPU scale: NeRF and Tiny-NeRF, BP / DFA /
shallow, PSNR and SSIM on the 10 held-out test views (train frames i % 10 == 0, never trained on).

    python eval/nerf_table1.py --data-root ../shared/data            # full: Tiny-NeRF x3 (~30 min each), NeRF BP ~90 min, DFA ~70 min per lr (2 cores)
    python eval/nerf_table1.py --cached-only                          # tabulate finished runs, train nothing
    python eval/nerf_table1.py --data-root ../shared/data --quick    # Tiny-NeRF at 50 x 50, 300 steps each (~2.5 CPU-min, 1 thread)

Every cell trains once (seed 0) through the project's runner, so an interrupted run resumes and
``--archs`` / ``--methods`` / ``--lrs`` select rows that can run in parallel (each writes the table of every finished
cell); finished runs are recorded in ``eval/results/nerf_table1_runs{,_quick}/<run_key>.json``. Writes
``eval/results/nerf_table1{,_quick}.{md,json}`` and ``.png`` (ground truth / BP / DFA / shallow
Tiny-NeRF renders of three test views), the figure from the run folders' best weights.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from table_cli import table_parser

from dfazoo.methods import METHODS
from dfazoo.nerf import TinyNeRF, ViewSynthesisTask
from dfazoo.nerf.recipes import LR, PAPER_PSNR, nerf_recipe
from dfazoo.project import cards_dir
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.releases import release_of
from dfazoo.train.runner import RunRecord, cached, default_root, run, run_folder

RESULTS = Path(__file__).resolve().parent / "results"
CELLS: tuple[tuple[str, str], ...] = (
    ("tinynerf", "bp"),
    ("tinynerf", "dfa"),
    ("tinynerf", "shallow"),
    ("nerf", "bp"),
    ("nerf", "dfa"),
)
# Learning rates per cell: NeRF DFA also at half the default (its training loss rose late at 5e-4);
# the validation views choose between them (goals and zoo), and the table reports every row.
LRS: dict[tuple[str, str], tuple[float, ...]] = {("nerf", "dfa"): (LR, LR / 2)}
QUICK = {"size": 50, "epochs": 3, "steps_per_epoch": 100, "val_views": 2}
FIGURE_VIEWS = 3


def recipes(
    quick: bool, archs: list[str], methods: tuple[str, ...] = METHODS, lrs: list[float] | None = None
) -> list[Recipe]:
    """The recipes of the table's rows, every lr of :data:`LRS` per cell (``lrs``: only those;
    ``quick``: Tiny-NeRF only, 50 x 50, 300 steps)."""
    out = []
    for arch, method in CELLS:
        if arch not in archs or method not in methods or (quick and arch != "tinynerf"):
            continue
        for lr in LRS.get((arch, method), (LR,)):
            if lrs is not None and lr not in lrs:  # halving LR is exact: 2.5e-4 == LR / 2
                continue
            recipe = nerf_recipe(arch, method, lr=lr)
            if quick:
                task = {
                    **recipe.task_config,
                    **{k: QUICK[k] for k in ("size", "steps_per_epoch", "val_views")},
                }
                recipe = replace(recipe, task_config=task, epochs=QUICK["epochs"], eval_every=QUICK["epochs"])
            out.append(recipe)
    return out


def select(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mark in each cell (arch, method) the row of the best validation PSNR (``selected``); the
    goals compare selected rows."""
    for c in cells:
        rivals = [
            r for r in cells if (r["arch"], r["method"]) == (c["arch"], c["method"]) and not r["diverged"]
        ]
        best = max(rivals, key=lambda r: r["val"].get("psnr", float("-inf")), default=None)
        c["selected"] = best is c
    return cells


def _weights(record: RunRecord, root: Path) -> Path | None:
    """The run's folder when it holds the weights, else the zoo card released from this run."""
    folder = run_folder(record.recipe, root)
    if (folder / "model.safetensors").exists():
        return folder
    card = cards_dir() / record.recipe.model_id
    release = release_of(record.recipe.model_id)
    if (card / "model.safetensors").exists() and release is not None and release.run_key == record.key:
        return card
    return None


def cell(record: RunRecord) -> dict[str, Any]:
    steps = record.epochs_done * record.recipe.task_config["steps_per_epoch"]
    return {
        "model_id": record.recipe.model_id,
        "arch": record.recipe.arch,
        "method": record.recipe.method,
        "run_key": record.key,
        "test": record.test_metrics,
        "val": record.val_metrics,
        "best_epoch": record.best_epoch,
        "best_step": (record.best_epoch or 0) * record.recipe.task_config["steps_per_epoch"],
        "steps": steps,
        "rays_per_step": record.recipe.batch_size,
        "lr": record.recipe.optimizer["lr"],
        "wall_time": record.wall_time,
        "diverged": record.diverged,
        "alignment": {k: v["mean"] for k, v in record.alignment.items()},
        "paper_psnr": record.recipe.paper_value,
    }


def figure(records: list[RunRecord], root: Path, data_root: str | None, path: Path) -> bool:
    """GT / BP / DFA / shallow Tiny-NeRF renders of the first test views, from each run's folder or
    else its released card (same recipe); False when no weights are at hand."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from dfazoo.nerf.render import psnr

    tiny = [r for r in records if r.recipe.arch == "tinynerf" and not r.diverged]
    sources = [(r, _weights(r, root)) for r in tiny]
    sources = [(r, f) for r, f in sources if f is not None]
    if not sources:
        return False
    task = ViewSynthesisTask(sources[0][0].recipe, data_root)
    poses, images = task.views("test")
    columns = [("ground truth", None)] + [
        (r.recipe.method.upper(), TinyNeRF.from_pretrained(f)) for r, f in sources
    ]
    n = min(FIGURE_VIEWS, len(poses))
    fig, axes = plt.subplots(n, len(columns), figsize=(2.2 * len(columns), 2.2 * n), squeeze=False)
    for row in range(n):
        for col, (title, model) in enumerate(columns):
            image = images[row] if model is None else task.render(model, poses[row])
            label = title if model is None else f"{title} {psnr(image, images[row]):.1f} dB"
            axes[row][col].imshow(image.numpy())
            axes[row][col].set_title(label, fontsize=8)
            axes[row][col].axis("off")
    fig.suptitle(f"Tiny-NeRF, lego held-out test views ({task.scene.height}x{task.scene.width})", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def goals(cells: list[dict[str, Any]]) -> list[str]:
    """The issue's goals, each stated as measured (test PSNR), or as not run yet."""
    psnr = {(c["arch"], c["method"]): c["test"].get("psnr") for c in cells if c["selected"]}

    def check(name: str, keys: list[tuple[str, str]], text: Callable[..., tuple[str, bool]]) -> str:
        if any(psnr.get(k) is None for k in keys):
            return f"- {name}: not run yet"
        statement, met = text(*(psnr[k] for k in keys))
        return f"- {name}: {statement}: {'met' if met else '**not met**'}"

    return [
        check("Tiny-NeRF BP at least 22 dB", [("tinynerf", "bp")], lambda bp: (f"{bp:.2f} dB", bp >= 22)),
        check(
            "Tiny-NeRF DFA within 1.5 dB of BP",
            [("tinynerf", "bp"), ("tinynerf", "dfa")],
            lambda bp, dfa: (f"gap {bp - dfa:.2f} dB", bp - dfa <= 1.5),
        ),
        check(
            "NeRF DFA within 3 dB of NeRF BP (paper: 7.6 dB at full scale)",
            [("nerf", "bp"), ("nerf", "dfa")],
            lambda bp, dfa: (f"gap {bp - dfa:.2f} dB", bp - dfa <= 3),
        ),
        check(
            "Tiny-NeRF shallow at least 5 dB below DFA",
            [("tinynerf", "dfa"), ("tinynerf", "shallow")],
            lambda dfa, shallow: (f"{dfa - shallow:.2f} dB below", dfa - shallow >= 5),
        ),
    ]


def markdown(cells: list[dict[str, Any]], args: argparse.Namespace, notes: str) -> str:
    command = "python eval/nerf_table1.py" + (" --quick" if args.quick else "")
    lines = [
        "# NeRF on lego: PSNR / SSIM on held-out views (scaling paper Tables 1, A.5; Figure A.1)",
        "",
        f"Written by `{command}`. Held-out views: {notes}. One run (seed 0) per cell; the same "
        "steps, rays per step and samples per ray for every method of an architecture.",
        "",
        "| model | method | test PSNR (dB) | test SSIM | val PSNR | steps | best step (val) | rays/step | lr | wall time (s) | paper PSNR (full scale) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cells:
        test = c["test"]
        value = "diverged" if c["diverged"] else f"{test.get('psnr', float('nan')):.2f}"
        ssim = f"{test['ssim']:.3f}" if "ssim" in test else "—"
        paper = f"{c['paper_psnr']:.2f}" if c["paper_psnr"] is not None else "—"
        val = f"{c['val']['psnr']:.2f}" if "psnr" in c["val"] else "—"
        method = (
            f"**{c['method']}**"
            if c["selected"] and len(LRS.get((c["arch"], c["method"]), ())) > 1
            else c["method"]
        )
        lines.append(
            f"| {c['arch']} | {method} | {value} | {ssim} | {val} | {c['steps']} | {c['best_step']} | "
            f"{c['rays_per_step']} | {c['lr']:g} | {c['wall_time']:.0f} | {paper} |"
        )
    lines += [
        "",
        f"Paper (lego, full scale, 800 x 800): BP {PAPER_PSNR['bp']}, DFA {PAPER_PSNR['dfa']} dB. "
        "SSIM: scikit-image `structural_similarity` (Gaussian window, sigma 1.5), mean over channels.",
        "Test columns: the weights of the best validation PSNR (`best step`; validation every "
        + ", ".join(
            f"{nerf_recipe(a, 'bp').eval_every * nerf_recipe(a, 'bp').task_config['steps_per_epoch']:,} steps for {t}"
            for a, t in (("tinynerf", "Tiny-NeRF"), ("nerf", "NeRF"))
        )
        + " and at the last step).",
        "Learning rates: "
        + "; ".join(f"{a} {m} at {', '.join(f'{x:g}' for x in xs)}" for (a, m), xs in LRS.items())
        + ", the rest at "
        + f"{LR:g}. Where a cell has several, its row of best validation PSNR is in bold: the goals "
        "and the zoo model use it.",
        "Wall time: each run's training on this 2-core machine, shared with other jobs (runs at "
        f"{args.threads} torch thread(s), often two at once), so it is no speed comparison: "
        "`eval/bench_nerf.py` times BP and DFA steps side by side.",
        "",
        "## Goals (test PSNR)",
        "",
        *goals(cells),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = table_parser(__doc__, "nerf/")
    parser.add_argument("--quick", action="store_true", help="Tiny-NeRF only, 50 x 50, 300 steps per method")
    parser.add_argument("--archs", nargs="+", default=["tinynerf", "nerf"], choices=["tinynerf", "nerf"])
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--lrs", nargs="+", type=float, help="train only the rows at these learning rates")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs-root", type=Path, help="run folders (default: the runner's cache)")
    parser.add_argument("--results", type=Path, default=RESULTS)
    parser.add_argument("--cached-only", action="store_true", help="train nothing: tabulate finished runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    suffix = "_quick" if args.quick else ""
    root = args.runs_root or default_root()
    records_dir = args.results / f"nerf_table1_runs{suffix}"
    started = time.perf_counter()
    for recipe in [] if args.cached_only else recipes(args.quick, args.archs, tuple(args.methods), args.lrs):
        run(recipe, root=root, records=records_dir, data_root=args.data_root, threads=args.threads)
    # Every finished cell, also those trained by another invocation (e.g. --archs nerf in parallel).
    every = recipes(args.quick, ["tinynerf", "nerf"])
    records = [rec for r in every if (rec := cached(r, root, records_dir)) is not None]
    cells = select([cell(r) for r in records])
    notes = records[0].data_notes if records else ""
    base = args.results / f"nerf_table1{suffix}"
    has_figure = figure(records, root, args.data_root, base.with_suffix(".png"))
    payload = {
        "cells": cells,
        "held_out": notes,
        "figure": base.with_suffix(".png").name if has_figure else None,
        "paper_psnr_lego": PAPER_PSNR,
        "threads": args.threads,
        "platform": platform.platform(),
        "elapsed": time.perf_counter() - started,
    }
    base.with_suffix(".json").write_text(json.dumps(payload, indent=2) + "\n")
    base.with_suffix(".md").write_text(markdown(cells, args, notes))
    print(base.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
