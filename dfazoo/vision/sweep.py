"""Resumable experiment cells for the vision eval scripts: train one recipe, cache its result JSON."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from dfazoo.core import DFAModel
from dfazoo.data.root import cache_dir
from dfazoo.files import atomic_file
from dfazoo.spec import build_model
from dfazoo.spec.recipe import Recipe
from dfazoo.stats import mean_std
from dfazoo.train import Trainer, TrainingDivergedError
from dfazoo.train.checkpoint import load_checkpoint


def runs_dir() -> Path:
    """Where the cells' checkpoints go (a cache, never the repository)."""
    return cache_dir().parent / "runs" / "vision"


def cell_run_dir(result_file: Path, tag: str = "") -> Path:
    """The run directory (checkpoints, metrics) of the cell cached at ``result_file``."""
    return runs_dir() / (tag or result_file.parent.name) / result_file.stem


def run_cell(
    recipe: Recipe, result_file: Path, data_root: str | None = None, tag: str = ""
) -> dict[str, Any]:
    """Train ``recipe`` with the Trainer (resuming an interrupted run) unless ``result_file`` exists.

    The cell records val/test/train accuracy (%) of the best-val checkpoint, its alignment on the
    task's 128-sample batch, and the budget. A diverged run is recorded as such, not retried.
    A cached cell is returned as is, except that one trained for fewer epochs than ``recipe``
    with an otherwise equal recipe and no scheduler is extended: its run resumes from its last
    checkpoint, which equals training the longer budget from the start.
    """
    if result_file.exists():
        cached = json.loads(result_file.read_text())
        if not _extends(cached, recipe):
            return cached
    trainer = Trainer(
        recipe, cell_run_dir(result_file, tag), data_root=data_root, progress=False, resume=True
    )
    cell: dict[str, Any] = {"model_id": recipe.model_id, "recipe": recipe.to_dict(), "epochs": recipe.epochs}
    try:
        result = trainer.fit()
    except TrainingDivergedError as err:
        cell.update(diverged=True, error=str(err))
    else:
        cell.update(
            diverged=False,
            val_accuracy=result.best_metric,
            best_epoch=result.best_epoch,
            test_accuracy=result.test_metrics["accuracy"],
            train_accuracy=trainer.task.evaluate(trainer.model, "train")["accuracy"],
            alignment=result.alignment,
            wall_time=result.wall_time,
        )
    cell["data_notes"] = getattr(trainer.task, "data_notes", "")
    with atomic_file(result_file) as f:
        f.write((json.dumps(cell, indent=2) + "\n").encode())
    return cell


def cell_model(recipe: Recipe, result_file: Path, tag: str = "") -> DFAModel:
    """The best-validation weights the Trainer saved for the cell cached at ``result_file``, in eval mode."""
    best = cell_run_dir(result_file, tag) / "best.pt"
    if not best.exists():
        raise FileNotFoundError(f"{best} is missing: delete {result_file} and rerun to retrain the cell")
    model = build_model(recipe)
    model.load_state_dict(load_checkpoint(best))
    return model.eval()


def _extends(cell: dict[str, Any], recipe: Recipe) -> bool:
    """True when ``recipe`` is ``cell``'s constant-schedule recipe with more epochs."""
    wanted = json.loads(json.dumps(recipe.to_dict()))
    done = cell.get("recipe", {})
    return (
        not cell.get("diverged")
        and recipe.scheduler is None
        and done.get("epochs", recipe.epochs) < recipe.epochs
        and {**done, "epochs": recipe.epochs} == wanted
    )


def summarise(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """Seeds of one row: accuracy mean/sample std and per-point alignment (mean of the per-run means/stds)."""
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
