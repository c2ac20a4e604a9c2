"""The seeds behind a released model: its table row's runs, read from the committed run records.

A release record (:func:`dfazoo.spec.releases.release_of`) names the table the released run was
chosen from; that table commits its runs' records (no checkpoints) in
``eval/results/<table>/runs/`` (vision) or ``eval/results/<table>_runs/`` (graph). The row of the
released run is every record that trains the same recipe but for the seed. A model without a
release record is seed ``recipe.seed`` of the seeds its release trained (``per_seed`` of its
results). :func:`table_seeds` is stored as ``table_seeds`` in ``eval/results/zoo/<id>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dfazoo.spec.recipe import Recipe
from dfazoo.spec.releases import Release, release_of
from dfazoo.zoo.hub import repo_root


def runs_folder(table: str, root: Path | None = None) -> Path:
    """The folder of ``table``'s committed run records (``table`` relative to the repository)."""
    stem = (root or repo_root()) / Path(table).with_suffix("")
    for folder in (stem / "runs", stem.parent / f"{stem.name}_runs"):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"no committed runs for {table} (looked for {stem}/runs and {stem}_runs)")


def _row_fields(recipe: dict[str, Any]) -> dict[str, Any]:
    training = Recipe(**recipe).training_dict()
    training.pop("seed")
    return json.loads(json.dumps(training))


def row_records(release: Release, root: Path | None = None) -> list[dict[str, Any]]:
    """The finished, non-diverged run records of the released run's table row, by seed."""
    folder = runs_folder(release.table, root)
    own = folder / f"{release.run_key}.json"
    if not own.exists():
        raise FileNotFoundError(f"{release.model_id}: its released run {own} is not committed")
    row = _row_fields(json.loads(own.read_text())["recipe"])
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]
    same = [r for r in records if r["finished"] and not r["diverged"] and _row_fields(r["recipe"]) == row]
    return sorted(same, key=lambda r: r["recipe"]["seed"])


def table_seeds(recipe: Recipe, per_seed: list[dict[str, Any]], root: Path | None = None) -> dict[str, Any]:
    """``{"rule", "seeds": [{"seed", "metrics"[, "run_key"]}], ["table", "runs"]}``: the seeds the
    released run was chosen among, with their test metrics, and the rule that chose it."""
    release = release_of(recipe.model_id)
    if release is None:
        n = len(per_seed)
        rule = f"seed {recipe.seed} of its recipe" + (
            f", the first of the {n} seeds trained" if n > 1 else ""
        )
        return {"rule": rule, "seeds": [{"seed": s["seed"], "metrics": s["metrics"]} for s in per_seed]}
    records = row_records(release, root)
    folder = runs_folder(release.table, root)
    return {
        "rule": release.rule,
        "table": release.table,
        "runs": folder.relative_to(root or repo_root()).as_posix(),
        "seeds": [
            {"seed": r["recipe"]["seed"], "run_key": r["key"], "metrics": r["test_metrics"]} for r in records
        ],
    }
