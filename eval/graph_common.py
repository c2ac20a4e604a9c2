"""Shared helpers of the graph result scripts: one seeded run of :mod:`dfazoo.train.runner` per cell.

Each table keeps its runs' records (no checkpoints) in ``eval/results/<table>_runs/<run_key>.json``;
the runner caches the checkpoints, which ``scripts/train_zoo.py`` reuses for the released seed.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from table_cli import table_parser

from dfazoo.spec.recipe import Recipe
from dfazoo.stats import format_pair, mean_std
from dfazoo.train.runner import RunRecord, cached, run

RESULTS = Path(__file__).resolve().parent / "results"


def graph_parser(doc: str | None) -> argparse.ArgumentParser:
    """A graph script's parser: its docstring as help, and ``--data-root`` (holding planetoid/)."""
    return table_parser(doc, "planetoid/")


def as_run(record: RunRecord) -> dict[str, Any]:
    """A record as the per-seed dict the graph tables summarise."""
    return {
        "seed": record.recipe.seed,
        "best_val": record.val,
        "best_epoch": record.best_epoch,
        "test": record.test_metrics,
        "alignment": record.alignment,
        "wall_time": record.wall_time,
    }


def graph_run(
    recipe: Recipe,
    records: Path,
    data_root: str | None,
    epochs: int | None = None,
    cached_only: bool = False,
) -> dict[str, Any] | None:
    """Run ``recipe`` (``epochs`` overriding its budget) through the runner; None if ``cached_only``
    and it never ran."""
    recipe = recipe if epochs is None else replace(recipe, epochs=epochs)
    if cached_only:
        record = cached(recipe, records=records)
        return as_run(record) if record is not None else None
    return as_run(run(recipe, records=records, data_root=data_root, threads=1))


def summarize(values: list[float]) -> dict[str, float | None]:
    """Mean, sample std (None for one value) and count of ``values``."""
    mean, std = mean_std(values)
    return {"mean": mean, "std": std, "n": len(values)}


def median_seed(runs: list[dict[str, Any]], metric: str) -> int:
    """The seed whose test ``metric`` is the median (the lower middle for an even count)."""
    ranked = sorted(runs, key=lambda r: (r["test"][metric], r["seed"]))
    return int(ranked[(len(ranked) - 1) // 2]["seed"])


def fmt(stats: dict[str, float] | None, digits: int = 1) -> str:
    if stats is None:
        return "—"
    return f"{format_pair(stats['mean'], stats['std'], digits)} (n={stats['n']})"
