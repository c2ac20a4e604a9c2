"""Coordinate search of the DFA hyperparameters of the two-layer graph nets on Cora's validation set.

    python eval/graph_search.py --data-root ../shared/data                 # gcn cheb spline gat
    python eval/graph_search.py --data-root ../shared/data --archs gcn     # one architecture

Each configuration trains ``--seeds`` seeds (0, 1, ...) with the project's runner (Adam, 250
epochs) and is scored by the mean over seeds of the best validation
accuracy on Cora; test accuracy is never read. Starting from the recipe before the search (``START``, what
``dfazoo/graph/recipes.py`` held), one coordinate at a time sweeps its grid with the others fixed and
moves to the best value when it beats the incumbent; passes repeat until one changes nothing
(at most ``--passes``). Finished runs are recorded in ``eval/results/graph_search_runs/``;
writes ``eval/results/graph_search.{json,md}``. ``--report-only`` redoes the search from the
recorded runs alone.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from typing import Any

import torch
from graph_common import RESULTS, graph_parser, graph_run

from dfazoo.graph.recipes import node_recipe
from dfazoo.spec.recipe import Recipe
from dfazoo.stats import format_pair, mean_std

# Coordinate order: the two that rescale the DFA signal first, then optimiser, then dropouts.
GRID: dict[str, tuple[Any, ...]] = {
    "error_reduction": ("mean", "sum"),
    "feedback_init": ("uniform2020", "principled"),
    "lr": (0.005, 0.01, 0.02, 0.05),
    "weight_decay": (0.0, 1e-4, 5e-4, 1e-3, 5e-3),
    "dropout": (0.0, 0.2, 0.5, 0.8),
    "input_dropout": (0.0, 0.2, 0.5, 0.8),
}
OPTIMIZER_KEYS = ("lr", "weight_decay")
RECORDS = RESULTS / "graph_search_runs"


# The DFA recipes of dfazoo/graph/recipes.py before this search: its starting points.
_BEFORE = {"error_reduction": "mean", "feedback_init": "uniform2020", "lr": 0.05, "weight_decay": 5e-4}
START: dict[str, dict[str, Any]] = {
    **{arch: {**_BEFORE, "dropout": 0.2, "input_dropout": 0.2} for arch in ("gcn", "cheb", "spline")},
    "gat": {**_BEFORE, "lr": 0.005, "weight_decay": 1e-4, "dropout": 0.1, "input_dropout": 0.1},
}


def config_recipe(arch: str, config: dict[str, Any], seed: int) -> Recipe:
    return apply_config(node_recipe(arch, "cora", "dfa", seed=seed), config)


def apply_config(base: Recipe, config: dict[str, Any]) -> Recipe:
    """``base`` with ``config``'s optimizer keys in its optimizer and the rest in its arch config."""
    arch_config = {**base.arch_config, **{k: v for k, v in config.items() if k not in OPTIMIZER_KEYS}}
    optimizer = {**base.optimizer, **{k: config[k] for k in OPTIMIZER_KEYS}}
    return replace(base, arch_config=arch_config, optimizer=optimizer)


class Search:
    """Validation scores of configurations: the mean best validation accuracy over seeds."""

    def __init__(self, data_root: str | None, seeds: int, report_only: bool = False) -> None:
        self.data_root, self.seeds, self.report_only = data_root, seeds, report_only

    def score(self, arch: str, config: dict[str, Any]) -> dict[str, Any]:
        vals = []
        for seed in range(self.seeds):
            run = graph_run(
                config_recipe(arch, config, seed), RECORDS, self.data_root, cached_only=self.report_only
            )
            if run is None:
                raise SystemExit(f"{arch} {config} seed {seed} was never run: run without --report-only")
            vals.append(run["best_val"])
        mean, std = mean_std(vals)
        return {
            "config": dict(config),
            "val_mean": mean,
            "val_std": std,
            "vals": vals,
        }


def search_arch(search: Search, arch: str, passes: int) -> dict[str, Any]:
    start = START[arch]
    best = search.score(arch, start)
    trials = [best]
    seen = {json.dumps(start, sort_keys=True)}
    for _ in range(passes):
        changed = False
        for name, values in GRID.items():
            for value in values:
                config = {**best["config"], name: value}
                if json.dumps(config, sort_keys=True) in seen:
                    continue
                seen.add(json.dumps(config, sort_keys=True))
                trial = search.score(arch, config)
                trials.append(trial)
                print(f"{arch} {config} val {trial['val_mean']:.2f}", flush=True)
                if trial["val_mean"] > best["val_mean"]:
                    best, changed = trial, True
        if not changed:
            break
    return {"current": trials[0], "best": best, "max_passes": passes, "trials": trials}


def fmt_config(config: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in config.items())


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    md = [
        "# DFA hyperparameter search of the graph nets (Cora validation only)",
        "",
        "Produced by `python eval/graph_search.py --data-root ../shared/data --archs <arch> --seeds "
        f"{args.seeds} --passes <max passes>`. Score: mean ± sample std over seeds 0-{args.seeds - 1} of "
        "the best validation accuracy (%) of a 250-epoch DFA run on Cora (Planetoid split); test "
        "accuracy is not looked at. Coordinate search from the recipe before the search ("
        "`START` in the script), "
        "grid: " + "; ".join(f"{k} {list(v)}" for k, v in GRID.items()) + ".",
        "",
        "| arch | recipe before (val) | best found (val) | configs tried | max passes |",
        "|---|---|---|---|---|",
    ]
    for arch, res in results.items():
        cur, best = res["current"], res["best"]
        md.append(
            f"| {arch} | {fmt_config(cur['config'])} ({format_pair(cur['val_mean'], cur['val_std'])}) | "
            f"{fmt_config(best['config'])} ({format_pair(best['val_mean'], best['val_std'])}) | "
            f"{len(res['trials'])} | {res['max_passes']} |"
        )
    md += ["", "Every configuration tried, in search order:", ""]
    for arch, res in results.items():
        md += [f"## {arch}", "", "| config | val mean ± sample std |", "|---|---|"]
        md += [
            f"| {fmt_config(t['config'])} | {format_pair(t['val_mean'], t['val_std'])} |"
            for t in res["trials"]
        ]
        md.append("")
    return "\n".join(md)


def main(argv: list[str] | None = None) -> None:
    parser = graph_parser(__doc__)
    parser.add_argument("--archs", nargs="+", default=["gcn", "cheb", "spline", "gat"])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--passes", type=int, default=1, help="maximum coordinate passes")
    parser.add_argument("--report-only", action="store_true", help="search the recorded runs, train nothing")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    search = Search(args.data_root, args.seeds, args.report_only)
    out = RESULTS / "graph_search.json"
    results: dict[str, dict[str, Any]] = json.loads(out.read_text())["archs"] if out.exists() else {}
    started = time.perf_counter()
    for arch in args.archs:
        results[arch] = search_arch(search, arch, args.passes)
        out.write_text(json.dumps({"grid": GRID, "seeds": args.seeds, "archs": results}, indent=1) + "\n")
    (RESULTS / "graph_search.md").write_text(render(results, args))
    print((RESULTS / "graph_search.md").read_text())
    print(f"{(time.perf_counter() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
