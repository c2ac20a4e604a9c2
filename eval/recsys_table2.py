"""Scaling paper Tables 2 (BP / DFA), A.3 (shallow) and A.1 (alignment) on ML-100K and the
synthetic CTR benchmark.

    python eval/recsys_table2.py --data-root ../shared/data           # the full protocol (resumes)
    python eval/recsys_table2.py --data-root ../shared/data --quick   # default settings, 1 seed, short

Protocol (appendix C): for every (dataset, architecture, method) a grid over Adam learning rate,
dropout and weight decay is trained with seed 0 and the setting with the best validation AUC is
kept; that setting then trains ``--seeds`` seeds, reported as test AUC and log loss at the
best-validation epoch (mean ± sample std). Alignment (Table A.1) is measured on 512 validation
rows at the end of training. Every run goes through the project's runner; finished runs are
recorded in ``eval/results/recsys_table2/runs{_quick}/<run_key>.json``, so an interrupted
invocation resumes. ``--quick`` skips the grid (recipe defaults), trains 1 seed for a few epochs
and uses a 200k-sample synthetic set: a smoke test and probe, not the protocol. Writes
``eval/results/recsys_table2{_quick}.{md,json}``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from pathlib import Path
from typing import Any

from sklearn.metrics import roc_auc_score
from table_cli import table_parser

from dfazoo.core import METHODS
from dfazoo.recsys.recipes import (
    ARCH_TITLES,
    ARCHS,
    EMBEDDING_DEFAULTS,
    PAPER_ALIGNMENT,
    PAPER_CRITEO,
    ctr_recipe,
)
from dfazoo.recsys.task import synthetic_config
from dfazoo.spec.recipe import Recipe
from dfazoo.stats import format_pair, mean_std
from dfazoo.train.runner import RunRecord, cached, run

RESULTS = Path(__file__).resolve().parent / "results"
DATASETS: tuple[str, ...] = ("ml100k", "synthetic")
# lr 3e-4 was dropped: at ML-100K's 1,200 steps it had not converged (DeepFM validation AUC 0.762
# at the last epoch, 0.768 with lr 1e-3 by epoch 16).
GRID: dict[str, tuple[float, ...]] = {
    "lr": (1e-3, 3e-3),
    "dropout": (0.0, 0.2, 0.5),
    "weight_decay": (0.0, 1e-5),
}
# The synthetic benchmark's grid keeps the learning rate and two dropouts, no weight decay: 4
# settings instead of 12, as its 800k training rows need less regularisation than ML-100K's 80k
# (DeepFM BP, lr 3e-3, dropout 0: validation AUC 0.8222 at epoch 6 of 10, 0.8202 at the last; the
# best-validation epoch is kept) and a run is 8M sample-steps (that run: 58 s at 1 thread) against
# ML-100K's 2.4M: ~100 runs for the protocol instead of ~210.
GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    "ml100k": GRID,
    "synthetic": {"lr": (1e-3, 3e-3), "dropout": (0.0, 0.2), "weight_decay": (0.0,)},
}
FLAGS: dict[str, str] = {"lr": "lrs", "dropout": "dropouts", "weight_decay": "weight_decays"}
# How each architecture's embeddings may learn under DFA (dfazoo.recsys.models).
EMBEDDING_MODES: dict[str, tuple[str, ...]] = {
    "deepfm": ("point", "layer", "none"),
    "dcn": ("point", "layer"),
    "afn": ("point", "layer"),
}
# AFN DFA may drop the logarithmic layer's point (``--afn-lnn-points off``; recipe ``lnn_feedback``).
LNN_POINTS: dict[str, bool | None] = {"on": None, "off": False}
# The recipe arguments a release record's row carries (:func:`dfazoo.recsys.recipes.zoo_recipe`).
ROW_KEYS: tuple[str, ...] = ("lr", "weight_decay", "dropout", "embedding_feedback", "lnn_feedback")
RELEASES = Path(__file__).resolve().parents[1] / "dfazoo" / "recsys" / "releases.json"
QUICK_SYNTHETIC: dict[str, Any] = {"num_samples": 200_000}
QUICK_EPOCHS: dict[str, int] = {"ml100k": 12, "synthetic": 5}


def cells(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """(dataset, arch, method) of every row: FM has BP only (no hidden layer)."""
    return [
        (ds, arch, method)
        for ds in args.datasets
        for arch in args.archs
        for method in args.methods
        if arch != "fm" or method == "bp"
    ]


def searched_grid(args: argparse.Namespace, ds: str) -> dict[str, list[float]]:
    """The grid of ``ds``: its :data:`GRIDS` entry, each axis replaced by its flag when given."""
    return {
        axis: list(values if (values := getattr(args, FLAGS[axis])) is not None else GRIDS[ds][axis])
        for axis in FLAGS
    }


def grid(arch: str, method: str, args: argparse.Namespace, ds: str) -> list[dict[str, Any]]:
    """The settings searched for ``arch`` and ``method`` on ``ds``: FM has no dropout; the embeddings'
    feedback (``--embedding-feedbacks``, default: the architecture's) matters for DFA only."""
    modes, lnn = [None], [None]
    if method == "dfa" and arch != "fm":
        modes = [m for m in args.embedding_feedbacks if m is None or m in EMBEDDING_MODES[arch]]
    if method == "dfa" and arch == "afn":
        lnn = [LNN_POINTS[v] for v in args.afn_lnn_points]
    if args.quick:
        space = {"lr": [None], "dropout": [None], "weight_decay": [None]}
    else:
        space = searched_grid(args, ds)
    dropouts = (None,) if arch == "fm" else space["dropout"]
    return [
        {"lr": lr, "dropout": d, "weight_decay": wd, "embedding_feedback": m, "lnn_feedback": p}
        for lr, d, wd, m, p in itertools.product(space["lr"], dropouts, space["weight_decay"], modes, lnn)
    ]


def train(recipe: Recipe, args: argparse.Namespace, records: Path) -> RunRecord | None:
    """The recorded run of ``recipe``, trained now unless recorded (None with ``--cached-only``)."""
    record = cached(recipe, records=records)
    if record is not None or args.cached_only:
        return record
    return run(recipe, records=records, data_root=args.data_root, threads=1)


def run_cell(
    ds: str, arch: str, method: str, args: argparse.Namespace, records: Path
) -> dict[str, Any] | None:
    """Select a setting on validation AUC (seed 0), then train the seeds; None if nothing ran."""
    synthetic = QUICK_SYNTHETIC if args.quick and ds == "synthetic" else {}
    epochs = args.epochs or (QUICK_EPOCHS[ds] if args.quick else None)

    def recipe(setting: dict[str, float | None], seed: int) -> Recipe:
        return ctr_recipe(arch, ds, method, seed=seed, epochs=epochs, synthetic=synthetic or None, **setting)

    searched, settings = [], grid(arch, method, args, ds)
    for setting in settings:
        record = train(recipe(setting, 0), args, records)
        if record is not None and record.val is not None:
            searched.append((record.val, setting))
    if not searched:
        return None
    best_val, best = max(searched, key=lambda s: s[0])

    def seeds_of(setting: dict[str, Any]) -> dict[str, Any]:
        """Train ``setting`` at every seed; its test metrics, alignment and chosen setting."""
        runs = [
            r for seed in range(args.seeds) if (r := train(recipe(setting, seed), args, records)) is not None
        ]
        runs = [r for r in runs if r.test is not None]
        chosen = recipe(setting, 0)
        points: dict[str, list[float]] = {}
        for r in runs:
            for name, a in r.alignment.items():
                points.setdefault(name, []).append(a["mean"])
        return {
            "setting": {
                **chosen.optimizer,
                "dropout": chosen.arch_config.get("dropout"),
                "embedding_feedback": chosen.arch_config.get("embedding_feedback"),
                "lnn_feedback": chosen.arch_config.get("lnn_feedback"),
            },
            "auc": summarize([r.test_metrics["auc"] for r in runs]),
            "logloss": summarize([r.test_metrics["logloss"] for r in runs]),
            "val_auc": summarize([r.val_metrics["auc"] for r in runs]),
            "best_epochs": [r.best_epoch for r in runs],
            "alignment": {name: summarize(v) for name, v in points.items()} if method == "dfa" else {},
            "wall_time": sum(r.wall_time for r in runs),
            "run_keys": [r.key for r in runs],
        }

    cell = {
        **seeds_of(best),
        "grid_size": len(searched),
        "grid_total": len(settings),
        "selection_val_auc": best_val,
    }
    # The grid may choose another placement than the paper's (how the embeddings learn: the
    # architecture's default; AFN's logarithmic-layer point): the best paper's setting is reported beside.
    default = EMBEDDING_DEFAULTS.get(arch)

    def papers(st: dict[str, Any]) -> bool:
        return st["embedding_feedback"] in (None, default) and st["lnn_feedback"] is None

    own = [(v, st) for v, st in searched if papers(st)]
    if method == "dfa" and own and not papers(best):
        cell["paper_placement"] = seeds_of(max(own, key=lambda s: s[0])[1])
    return cell


def release_records(out: dict[str, dict[str, Any]], seeds: int) -> dict[str, dict[str, Any]]:
    """Release records (``dfazoo/recsys/releases.json``) of the finished ML-100K cells: each zoo
    model is seed 0 of the setting its cell chose, and its card shows the cell's seeds beside it."""
    records = {}
    for model_id, cell in out.items():
        if "-ml100k-" not in model_id or cell["grid_size"] < cell["grid_total"] or cell["auc"]["n"] < seeds:
            continue
        row = {k: cell["setting"][k] for k in ROW_KEYS if cell["setting"].get(k) is not None}
        records[model_id] = {
            "rule": "seed 0 of the setting chosen on validation AUC (seed 0) from the grid",
            "table": "eval/results/recsys_table2.md",
            "seed": 0,
            "row": row,
            "run_key": cell["run_keys"][0],
        }
    return records


def summarize(values: list[float]) -> dict[str, Any]:
    mean, std = mean_std(values)
    return {"mean": mean, "std": std, "n": len(values)}


def fmt(stats: dict[str, Any] | None, digits: int = 4) -> str:
    if not stats or not stats["n"]:
        return "—"
    return f"{format_pair(stats['mean'], stats['std'], digits)} (n={stats['n']})"


def oracle_auc(quick: bool) -> float:
    """The teacher's own AUC on the synthetic test split: the best any model can reach."""
    from dfazoo.data.synthetic_ctr import make_synthetic_ctr

    data = make_synthetic_ctr(synthetic_config({"seed": 0, **(QUICK_SYNTHETIC if quick else {})}))
    test = data.splits["test"]
    return float(roc_auc_score(data.labels[test].numpy(), data.oracle_logits[test].numpy()))


def checks(out: dict[str, dict[str, Any]], ds: str) -> list[str]:
    """The issue's goals, stated as measured."""

    def auc(arch: str, method: str) -> float | None:
        cell = out.get(f"{arch}-{ds}-{method}")
        return cell["auc"]["mean"] if cell else None

    lines, fm = [], auc("fm", "bp")
    for arch in ("deepfm", "dcn", "afn"):
        bp, dfa, shallow = auc(arch, "bp"), auc(arch, "dfa"), auc(arch, "shallow")
        parts = []
        if bp is not None and dfa is not None:
            parts.append(f"BP − DFA = {bp - dfa:+.4f} ({'within' if bp - dfa <= 0.003 else 'OUTSIDE'} 0.003)")
        if None not in (bp, dfa, shallow):
            gap = bp - shallow
            ok = gap > 0 and dfa - shallow >= gap / 2
            parts.append(
                f"DFA − shallow = {dfa - shallow:+.4f} vs half the BP − shallow gap {gap / 2:+.4f}: {'met' if ok else 'NOT met'}"
            )
        if fm is not None and bp is not None:
            parts.append(f"BP − FM = {bp - fm:+.4f}")
        if parts:
            lines.append(f"- {ARCH_TITLES[arch]}: " + "; ".join(parts))
    return lines


def setting_text(cell: dict[str, Any]) -> str:
    """A cell's chosen hyperparameters, e.g. ``lr 0.003, dropout 0.5, embeddings layer``."""
    setting = cell["setting"]
    parts = [f"{k} {v:g}" for k, v in setting.items() if isinstance(v, float)]
    if setting.get("embedding_feedback"):
        parts.append(f"embeddings {setting['embedding_feedback']}")
    if setting.get("lnn_feedback") is False:
        parts.append("no logarithmic-layer point")
    return ", ".join(parts)


def paper_label(arch: str) -> str:
    """The table's label of a DFA cell's best setting with the paper's placement."""
    label = f"the paper's embeddings ({EMBEDDING_DEFAULTS[arch]})"
    return label + " and logarithmic-layer point" if arch == "afn" else label


def render(
    out: dict[str, dict[str, Any]], args: argparse.Namespace, elapsed: float, oracle: float | None
) -> str:
    cmd = "python eval/recsys_table2.py --data-root ../shared/data" + (
        " --quick" if args.quick else f" --seeds {args.seeds} --datasets {' '.join(args.datasets)}"
    )
    if args.embedding_feedbacks != [None]:
        cmd += " --embedding-feedbacks " + " ".join(args.embedding_feedbacks)
    if args.afn_lnn_points != ["on"]:
        cmd += " --afn-lnn-points " + " ".join(args.afn_lnn_points)
    for flag in FLAGS.values():
        if not args.quick and (values := getattr(args, flag)) is not None:
            cmd += f" --{flag.replace('_', '-')} " + " ".join(f"{v:g}" for v in values)
    grids = (
        "(none: recipe defaults, --quick)"
        if args.quick
        else "; ".join(f"{ds}: {json.dumps(searched_grid(args, ds))}" for ds in args.datasets)
    )
    md = [
        "# Recommender systems trained with DFA (scaling paper §3.1.2, Tables 2, A.1, A.3)",
        "",
        f"Produced by `{cmd}`. Test AUC and log loss at the best-validation-AUC epoch, mean ± sample "
        f"std over n seeds, for the setting chosen on validation AUC (seed 0) from the grid {grids}. The paper's numbers "
        "are on **Criteo**, which is not available offline here (nor Avazu, MovieLens-1M): our "
        "real-data benchmark is MovieLens-100K (click = rating ≥ 4, 8 fields, first genre only, seeded "
        "80/10/10 split), beside the synthetic benchmark of `dfazoo.data.synthetic_ctr` "
        f"({'200k samples in --quick' if args.quick else '1M samples'}, fixed 80/10/10 split).",
        "",
        "DFA rows also search the placement: how the embeddings learn (`none`: through the FM only; "
        "`point`: their own feedback point; `layer`: from the DFA signals of the layers reading them, "
        "backpropagated through those layers only) and, for AFN, whether the logarithmic layer has its "
        "own point (without it, the layer and the embeddings learn from the MLP's first DFA signal "
        "backpropagated through it). When the choice is not the paper's placement, the best setting "
        "with the paper's placement is reported beside it.",
        "",
    ]
    for ds in args.datasets:
        md += [
            f"## {ds}",
            "",
            "| model | method | test AUC | test log loss | chosen setting | paper Criteo AUC / log loss |",
            "|---|---|---|---|---|---|",
        ]
        for d, arch, method in cells(args):
            if d != ds:
                continue
            cell = out.get(f"{arch}-{ds}-{method}")
            paper = PAPER_CRITEO.get((arch, method))
            paper_text = f"{paper[0]:.4f} / {paper[1]:.4f}" if paper else "—"
            setting = setting_text(cell) if cell else "—"
            if cell and cell["grid_size"] < cell.get("grid_total", cell["grid_size"]):
                setting += f" (grid so far: {cell['grid_size']} of {cell['grid_total']} settings)"
            md.append(
                f"| {ARCH_TITLES[arch]} | {method} | {fmt(cell and cell['auc'])} | {fmt(cell and cell['logloss'])} | "
                f"{setting} | {paper_text} |"
            )
            own = (cell or {}).get("paper_placement")
            if own:
                md.append(
                    f"| {ARCH_TITLES[arch]} | {method}, {paper_label(arch)} | "
                    f"{fmt(own['auc'])} | {fmt(own['logloss'])} | {setting_text(own)} | {paper_text} |"
                )
        if ds == "synthetic" and oracle is not None:
            md += ["", f"Bayes AUC of the synthetic test split (the teacher's own logits): {oracle:.4f}."]
        md += ["", "Goal checks:", "", *checks(out, ds), ""]
    md += [
        "## Table A.1: alignment of the DFA models",
        "",
        "| dataset | model | per point (mean over seeds) | paper Criteo |",
        "|---|---|---|---|",
    ]
    for key, cell in out.items():
        arch, ds, method = key.split("-")
        if method == "dfa" and arch in PAPER_ALIGNMENT:
            points = ", ".join(f"{name} {s['mean']:.2f}" for name, s in cell["alignment"].items())
            md.append(
                f"| {ds} | {ARCH_TITLES[arch]} | {points or '—'} | {PAPER_ALIGNMENT[arch][0]:.2f} ({PAPER_ALIGNMENT[arch][1]:.2f}) |"
            )
    md += [
        "",
        "Alignment: cosine between the DFA signal B e and the BP gradient at each active feedback point, "
        "per validation row (512 rows), averaged over rows, then over seeds.",
        "",
        "## Cost",
        "",
        f"This invocation: {elapsed / 60:.1f} min (cached runs are not retrained); 1 torch thread per run "
        f"on a 2-core machine shared with other jobs ({platform.machine()}).",
        "",
    ]
    return "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    parser = table_parser(__doc__, "movielens/ml-100k")
    parser.add_argument(
        "--quick", action="store_true", help="recipe defaults, 1 seed, few epochs, 200k synthetic rows"
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=ARCHS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--epochs", type=int, help="override the recipes' epochs")
    for axis, flag in FLAGS.items():
        parser.add_argument(
            f"--{flag.replace('_', '-')}",
            nargs="+",
            type=float,
            help=f"grid: {axis.replace('_', ' ')} values for every dataset (default: each dataset's GRIDS)",
        )
    parser.add_argument(
        "--embedding-feedbacks",
        nargs="+",
        default=[None],
        choices=("point", "layer", "none"),
        help="grid for DFA rows: how the embeddings learn (default: each architecture's own)",
    )
    parser.add_argument(
        "--afn-lnn-points",
        nargs="+",
        default=["on"],
        choices=tuple(LNN_POINTS),
        help="grid for AFN's DFA row: with (the paper's) and/or without the logarithmic layer's point",
    )
    parser.add_argument("--cached-only", action="store_true", help="train nothing: tabulate finished runs")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results folder")
    parser.add_argument(
        "--write-releases",
        action="store_true",
        help="record the finished ML-100K cells' seed-0 runs as the zoo's releases (dfazoo/recsys/releases.json)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds = 1
    suffix = "_quick" if args.quick else ""
    records = args.out / "recsys_table2" / f"runs{suffix}"
    started = time.perf_counter()
    out = {}
    for ds, arch, method in cells(args):
        cell = run_cell(ds, arch, method, args, records)
        if cell is not None:
            out[f"{arch}-{ds}-{method}"] = cell
    oracle = oracle_auc(args.quick) if "synthetic" in args.datasets else None
    elapsed = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    paper = {f"{a}-{m}": v for (a, m), v in PAPER_CRITEO.items()}
    (args.out / f"recsys_table2{suffix}.json").write_text(
        json.dumps({"cells": out, "synthetic_bayes_auc": oracle, "paper_criteo": paper}, indent=1) + "\n"
    )
    if args.write_releases and not args.quick:
        records = {**json.loads(RELEASES.read_text()), **release_records(out, args.seeds)}
        RELEASES.write_text(json.dumps(dict(sorted(records.items())), indent=1) + "\n")
    text = render(out, args, elapsed, oracle)
    (args.out / f"recsys_table2{suffix}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
