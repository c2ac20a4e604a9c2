"""Re-measure a released model's metric on its test split and compare with its card."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dfazoo.spec import get_task, make_task
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.registry import UnknownModelError, get_recipe
from dfazoo.spec.task import Task
from dfazoo.zoo.cards import card_value, metric_decimals, read_results
from dfazoo.zoo.hub import cards_dir, folder_model_id, load_folder, resolve_folder

RECIPE_NAME = "recipe.json"


def folder_recipe(folder: Path) -> Recipe:
    """The recipe a model folder was trained with: the ``recipe.json`` of a ``dfazoo train`` run
    folder when present (also for a recipe that is not registered, e.g. ``--epochs 2``), else the
    registered recipe of the folder's ``model_id``."""
    path = Path(folder) / RECIPE_NAME
    if path.is_file():
        return Recipe(**json.loads(path.read_text()))
    return get_recipe(folder_model_id(folder))


def _card_value(folder: Path, recipe: Recipe) -> float | None:
    """The folder's card value; for a run folder without a card, the released card of the same
    recipe (same :meth:`Recipe.run_key`), else None."""
    value = card_value(folder)
    if value is not None or not (Path(folder) / RECIPE_NAME).is_file():
        return value
    try:
        released = get_recipe(recipe.model_id)
    except UnknownModelError:
        return None
    if released.run_key() != recipe.run_key():
        return None
    return card_value(cards_dir() / recipe.model_id)


def evaluate_model(
    id_or_path: str | os.PathLike[str],
    data_root: str | None = None,
    *,
    org: str | None = None,
    revision: str | None = None,
) -> dict[str, Any]:
    """``{"model", "dataset", "metric", "value", "card_value"}`` for a zoo id, folder or Hub repo.

    Measured on the test split (the val split for a task without one). The recipe is the folder's
    ``recipe.json`` (a ``dfazoo train`` run folder), else the registered recipe of its
    ``config.json``'s ``model_id`` (else its folder name). A run folder without a card is
    compared with the released card of the same recipe, if any.
    """
    folder = resolve_folder(id_or_path, org=org, revision=revision)
    recipe = folder_recipe(folder)
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
        "card_value": _card_value(folder, recipe),
    }


def spot_check_model(model_id: str, data_root: str | None = None) -> list[tuple[float, float]]:
    """(re-measured, released) metric values of a released zoo model on a cheap part of its test
    split (:meth:`Task.spot_check`); empty, without building the task, when its task keeps no
    per-example records."""
    recipe = get_recipe(model_id)
    if get_task(recipe.task).spot_check is Task.spot_check:
        return []
    results = read_results(model_id) or {}
    return make_task(recipe, data_root).spot_check(load_folder(cards_dir() / model_id), results)


def matches_card(result: dict[str, Any], recipe: Recipe | None = None) -> bool:
    """True when the re-measured value is within the recipe's tolerance of the card's value
    (``recipe`` defaults to the registered recipe of ``result["model"]``)."""
    if result["card_value"] is None:
        return False  # includes every run of an unregistered recipe
    recipe = recipe or get_recipe(result["model"])
    rounding = 0.5 * 10 ** -metric_decimals(recipe.metric)  # the card states the value rounded
    return abs(result["value"] - result["card_value"]) <= recipe.tolerance + rounding
