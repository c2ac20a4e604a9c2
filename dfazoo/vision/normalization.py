"""The input normalisation of each vision model, as data: ``preprocessing(id)``, ``preprocess(x, id)``.

A model expects ``(pixels / pixel_max - mean) / std`` per channel, with the mean and std of its
task's train split (the train images minus the validation hold-out). They are measured from the
data by :class:`~dfazoo.vision.task.ImageClassificationTask` and stored in ``normalization.json``
next to this module, so a user needs no dataset to prepare inputs. Regenerate the file with
``python -m dfazoo.vision.normalization`` (``tests/test_vision_normalization.py`` re-measures it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dfazoo.spec import Recipe, get_recipe, list_models

TABLE = Path(__file__).with_name("normalization.json")


def normalization_key(recipe: Recipe) -> str:
    """What the measured mean and std depend on: the dataset and which train images are used."""
    cfg = recipe.task_config
    key = recipe.dataset
    if "val_size" in cfg:
        key += f"/val_size={int(cfg['val_size'])}"
    if cfg.get("train_subset"):
        key += f"/train_subset={int(cfg['train_subset'])}"
    return key


def preprocessing(model_id_or_recipe: str | Recipe) -> dict[str, Any]:
    """``{"dataset", "pixel_max", "mean", "std"}`` (per channel) that the model's inputs need."""
    recipe = get_recipe(model_id_or_recipe) if isinstance(model_id_or_recipe, str) else model_id_or_recipe
    if recipe.task != "image_classification":
        raise ValueError(
            f"{recipe.model_id} is a {recipe.task} model; preprocessing covers image classifiers"
        )
    key = normalization_key(recipe)
    table = json.loads(TABLE.read_text())
    if key not in table:
        raise KeyError(
            f"no stored normalisation for {key!r} ({recipe.model_id}); measure it with "
            "dfazoo.spec.make_task(recipe).preprocessing, or regenerate: python -m dfazoo.vision.normalization"
        )
    return {"dataset": recipe.dataset, **table[key]}


def preprocess(images: np.ndarray | torch.Tensor, model_id_or_recipe: str | Recipe) -> torch.Tensor:
    """Raw pixels (N, C, H, W), 0..pixel_max (e.g. uint8 0..255), as the model's input tensor."""
    p = preprocessing(model_id_or_recipe)
    x = torch.as_tensor(np.asarray(images) if not isinstance(images, torch.Tensor) else images).float()
    channels = len(p["mean"])
    if x.ndim != 4 or x.shape[1] != channels:
        raise ValueError(f"expected images of shape (N, {channels}, H, W), got {tuple(x.shape)}")
    mean = torch.tensor(p["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(p["std"]).view(1, -1, 1, 1)
    return (x / p["pixel_max"] - mean) / std


def measure_table(data_root: str | None = None) -> dict[str, dict[str, Any]]:
    """Measure the normalisation of every registered image classifier's recipe from its data."""
    from dfazoo.spec import make_task

    table: dict[str, dict[str, Any]] = {}
    for model_id in list_models(domain="vision"):
        recipe = get_recipe(model_id)
        key = normalization_key(recipe)
        if recipe.task == "image_classification" and key not in table:
            table[key] = make_task(recipe, data_root).preprocessing
    return dict(sorted(table.items()))


if __name__ == "__main__":
    TABLE.write_text(json.dumps(measure_table(), indent=2) + "\n")
    print(f"wrote {TABLE}")
