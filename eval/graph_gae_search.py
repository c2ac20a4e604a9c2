"""GAE-DFA hyperparameter search on Cora: configurations scored by mean best-validation AUC.

    python eval/graph_gae_search.py --data-root ../shared/data

Each configuration (Adam lr, weight decay, feedback init, error reduction, dropout) trains the
``gae-cora-dfa`` recipe for seeds 0-2 with the project's Trainer; test edges are never read.
Runs go through the project's runner (records in ``eval/results/graph_gae_search_runs/``, so an
interrupted search resumes); writes ``eval/results/graph_gae_search.json``. ``--report-only``
rebuilds it from the records.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics

import torch
from graph_common import RESULTS, graph_run
from graph_search import apply_config

from dfazoo.graph.recipes import gae_recipe

SEEDS = (0, 1, 2)


def grid() -> list[dict]:
    configs = [
        dict(lr=lr, weight_decay=wd, feedback_init=init, error_reduction="mean", dropout=0.0)
        for lr, wd, init in itertools.product((0.005, 0.01, 0.02), (0.0, 5e-4), ("uniform2020", "principled"))
    ]
    configs.append(
        dict(lr=0.01, weight_decay=0.0, feedback_init="uniform2020", error_reduction="sum", dropout=0.0)
    )
    configs += [
        dict(lr=lr, weight_decay=0.0, feedback_init=init, error_reduction="mean", dropout=dropout)
        for lr, init, dropout in [
            (0.01, "uniform2020", 0.2),
            (0.01, "principled", 0.2),
            (0.02, "principled", 0.2),
            (0.02, "uniform2020", 0.2),
            (0.01, "uniform2020", 0.5),
            (0.01, "principled", 0.5),
        ]
    ]
    return configs


def score(config: dict, data_root: str | None, report_only: bool = False) -> list[float]:
    """Best validation AUC of each seed."""
    values = []
    for seed in SEEDS:
        recipe = apply_config(gae_recipe("cora", "dfa", seed=seed), config)
        run = graph_run(recipe, RESULTS / "graph_gae_search_runs", data_root, cached_only=report_only)
        if run is None:
            raise SystemExit(f"{config} seed {seed} was never run: run without --report-only")
        values.append(run["best_val"])
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="folder holding planetoid/ (default: $DFAZOO_DATA)")
    parser.add_argument("--report-only", action="store_true", help="rebuild from the recorded runs")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    path = RESULTS / "graph_gae_search.json"
    done = {}
    for config in grid():
        key = json.dumps(config, sort_keys=True)
        runs = score(config, args.data_root, args.report_only)
        done[key] = {"val_auc": statistics.fmean(runs), "runs": runs}
        path.write_text(json.dumps(done, indent=1) + "\n")
        print(f"{done[key]['val_auc']:.4f}  {key}")
    best = max(done, key=lambda k: done[k]["val_auc"])
    print(f"best: {best} (mean val AUC {done[best]['val_auc']:.4f})")


if __name__ == "__main__":
    main()
