"""Shared helpers of the vision result scripts: one cell = one run of :mod:`dfazoo.train.runner`.

Each table keeps its runs' records (no checkpoints) in ``eval/results/<table>/runs/<run_key>.json``
(the ``records`` argument);
``--report-only`` tabulates them without training. Checkpoints live in the runner's cache.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from dfazoo.core import DFAModel
from dfazoo.spec import build_model
from dfazoo.spec.recipe import Recipe
from dfazoo.stats import mean_std
from dfazoo.train.checkpoint import load_checkpoint
from dfazoo.train.runner import RunRecord, cached, default_root, run, run_folder

RESULTS = Path(__file__).resolve().parent / "results"


def as_cell(record: RunRecord) -> dict[str, Any]:
    """A run's record as the flat cell the vision tables summarise (``val_<metric>``, ...)."""
    metric = record.recipe.metric
    cell: dict[str, Any] = {
        "model_id": record.recipe.model_id,
        "recipe": record.recipe.to_dict(),
        "epochs": record.recipe.epochs,
        "diverged": record.diverged,
    }
    if record.diverged:
        cell["error"] = record.error
    else:
        cell.update(
            {
                f"val_{metric}": record.val,
                "best_epoch": record.best_epoch,
                f"test_{metric}": record.test,
                f"train_{metric}": record.train_metrics.get(metric),
                "alignment": record.alignment,
                "wall_time": record.wall_time,
            }
        )
    cell["data_notes"] = record.data_notes
    return cell


def run_cell(recipe: Recipe, records: Path, data_root: str | None = None) -> dict[str, Any]:
    """Train ``recipe`` through the runner (cached by its run key, record kept in ``records``); its cell."""
    record = run(recipe, records=records, data_root=data_root, train_metrics=True)
    return as_cell(record)


def cached_cell(recipe: Recipe, records: Path) -> dict[str, Any] | None:
    """The recorded cell of ``recipe`` in ``records`` (a table's ``runs/``), None when never run."""
    record = cached(recipe, records=records)
    return as_cell(record) if record is not None else None


def cell_model(recipe: Recipe) -> DFAModel:
    """The best-validation weights the runner saved for ``recipe``, in eval mode."""
    best = run_folder(recipe, default_root()) / "best.pt"
    if not best.exists():
        raise FileNotFoundError(f"{best} is missing: rerun the table to retrain the cell")
    model = build_model(recipe)
    model.load_state_dict(load_checkpoint(best))
    return model.eval()


def add_report_only(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--report-only", action="store_true", help="tabulate the committed runs, train nothing"
    )


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Seeds of one row: accuracy mean/std and per-point alignment (mean of the per-run means/stds)."""
    ok = [c for c in cells if not c.get("diverged")]
    summary: dict[str, Any] = {"runs": len(cells), "diverged": len(cells) - len(ok)}
    for key in ("test_accuracy", "train_accuracy", "val_accuracy"):
        summary[key] = mean_std([c[key] for c in ok])
    points = list(ok[0]["alignment"]) if ok else []
    summary["alignment"] = {
        p: {
            "mean": statistics.fmean(c["alignment"][p]["mean"] for c in ok),
            "std": statistics.fmean(c["alignment"][p]["std"] for c in ok),
        }
        for p in points
    }
    return summary


def row_values(pairs: list[str], rows: list[str], default: int, flag: str) -> dict[str, int]:
    """``["norm/dfa=20"]`` -> every row's value (``default`` for the rows not named), for ``flag``."""
    values = dict.fromkeys(rows, default)
    for pair in pairs:
        row, _, value = pair.partition("=")
        if row not in values or not value.isdigit():
            raise SystemExit(f"{flag} {pair!r}: expected ROW=N with ROW one of {sorted(rows)}")
        values[row] = int(value)
    return values


def paper_rows(table: str) -> dict[str, tuple[float, ...]]:
    """The principled paper's numbers of ``table`` in eval/paper_numbers.json, by row."""
    tables = json.loads((Path(__file__).with_name("paper_numbers.json")).read_text())
    return {row: tuple(values) for row, values in tables[table]["rows"].items()}
