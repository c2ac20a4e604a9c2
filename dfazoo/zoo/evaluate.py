"""Re-measure a released model's metric on its test split and compare with its card."""

from __future__ import annotations

import os
from typing import Any

from dfazoo.spec import make_task
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.registry import get_recipe
from dfazoo.zoo.cards import card_value
from dfazoo.zoo.hub import folder_model_id, load_folder, resolve_folder


def evaluate_model(
    id_or_path: str | os.PathLike[str],
    data_root: str | None = None,
    *,
    org: str | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """``{"model", "dataset", "metric", "value", "card_value"}`` for a zoo id, folder or Hub repo.

    Measured on the test split (the val split for a task without one). The recipe is found
    from the folder's ``config.json`` (``model_id``), else from its folder name.
    """
    folder = resolve_folder(id_or_path, org=org, revision=revision)
    recipe = get_recipe(folder_model_id(folder))
    model = load_folder(folder)
    task = make_task(recipe, data_root)
    metrics = task.evaluate(model, task.report_split)
    if recipe.metric not in metrics:
        raise KeyError(
            f"task {recipe.task!r} reported {sorted(metrics)}, not the recipe metric {recipe.metric!r}"
        )
    return {
        "model": recipe.model_id,
        "dataset": recipe.dataset,
        "metric": recipe.metric,
        "value": float(metrics[recipe.metric]),
        "card_value": card_value(folder),
    }


def matches_card(result: dict[str, Any], recipe: Recipe) -> bool:
    """True when the re-measured value is within the recipe's tolerance of the card's value."""
    if result["card_value"] is None:
        return False
    return abs(result["value"] - result["card_value"]) <= recipe.tolerance
