"""Shared helpers of the graph result scripts: one seeded Trainer run, cached per cell."""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from dfazoo.spec.recipe import Recipe
from dfazoo.stats import format_pair, mean_std
from dfazoo.train import Trainer
from dfazoo.zoo.hub import zoo_root

RESULTS = Path(__file__).resolve().parent / "results"


def train_once(recipe: Recipe, data_root: str | None, epochs: int | None = None) -> dict[str, Any]:
    """Train ``recipe`` with the project's Trainer; return its outcome.

    Full-length runs go to ``runs/<model_id>/seed<k>``, the folder ``scripts/train_zoo.py``
    uses, so releasing the median seed afterwards reuses the finished run instead of
    retraining it. Shortened runs (``epochs``) use a throwaway folder.
    """
    if epochs is not None:
        with tempfile.TemporaryDirectory(prefix="dfazoo-graph-") as run_dir:
            result = Trainer(
                replace(recipe, epochs=epochs), run_dir, data_root=data_root, progress=False
            ).fit()
    else:
        run_dir = zoo_root() / "runs" / recipe.model_id / f"seed{recipe.seed}"
        result = Trainer(recipe, run_dir, data_root=data_root, progress=False, resume=True).fit()
    return {
        "seed": recipe.seed,
        "best_val": result.best_metric,
        "best_epoch": result.best_epoch,
        "test": result.test_metrics,
        "alignment": result.alignment,
        "wall_time": result.wall_time,
    }


def recipe_hash(recipe: Recipe, epochs: int | None = None) -> str:
    """Short hash of everything that changes a run, so edited hyperparameters are retrained."""
    fields = {k: v for k, v in recipe.to_dict().items() if k not in ("description", "notes", "data_notes")}
    fields["epochs"] = epochs or recipe.epochs
    return hashlib.sha1(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:10]


class RunCache:
    """A JSON file of finished runs keyed ``<model_id>/seed<k>/<recipe hash>``, rewritten after each run."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.runs: dict[str, dict[str, Any]] = json.loads(path.read_text()) if path.exists() else {}

    def get(self, recipe: Recipe, epochs: int | None = None) -> dict[str, Any] | None:
        return self.runs.get(f"{recipe.model_id}/seed{recipe.seed}/{recipe_hash(recipe, epochs)}")

    def get_or_run(self, recipe: Recipe, data_root: str | None, epochs: int | None = None) -> dict[str, Any]:
        key = f"{recipe.model_id}/seed{recipe.seed}/{recipe_hash(recipe, epochs)}"
        if key not in self.runs:
            torch.set_num_threads(1)
            self.runs[key] = train_once(recipe, data_root, epochs)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Merge with what other invocations wrote meanwhile, so parallel runs lose nothing.
            on_disk = json.loads(self.path.read_text()) if self.path.exists() else {}
            self.runs = {**on_disk, **self.runs}
            self.path.write_text(json.dumps(self.runs, indent=1) + "\n")
        return self.runs[key]


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
