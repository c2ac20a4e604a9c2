"""Image classification task: in-memory tensors, a fixed validation hold-out, accuracy in %."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dfazoo.data.vision import ImageData, load_image_dataset
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task
from dfazoo.vision.normalization import preprocessing

DEFAULT_VAL_SIZE = {"digits": 287, "mnist": 5000, "fashion-mnist": 5000, "cifar10": 5000}
SPLIT_SEED = 0


@functools.lru_cache(maxsize=2)
def _cached_dataset(name: str, root: str | None) -> ImageData:
    return load_image_dataset(name, root)


def classification_metrics(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Accuracy (in %) and mean cross-entropy."""
    return {
        "accuracy": 100.0 * (logits.argmax(-1) == targets).double().mean().item(),
        "loss": F.cross_entropy(logits, targets).item(),
    }


class ImageClassificationTask(Task):
    """Digits, MNIST, Fashion-MNIST or CIFAR-10, preloaded as one float tensor per split.

    ``task_config``: ``val_size`` (images held out from train by a fixed permutation with seed
    0; defaults in :data:`DEFAULT_VAL_SIZE`), ``train_subset`` (keep n of the remaining train
    images, drawn by the same permutation, for CPU budgets), ``eval_batch_size``. Pixels are scaled to [0, 1]
    then standardised per channel with the train split's mean and std, measured here and kept as
    ``preprocessing`` (``{"pixel_max", "mean", "std"}``, one value per channel; see
    :mod:`dfazoo.vision.normalization`). The metric ``accuracy`` is in %.
    """

    name = "image_classification"

    @classmethod
    def card_inputs(cls, recipe: Recipe, results: dict[str, Any]) -> str:
        """An image classifier's measured per-channel normalisation."""
        p = preprocessing(recipe)
        mean = ", ".join(f"{v:.4f}" for v in p["mean"])
        std = ", ".join(f"{v:.4f}" for v in p["std"])
        return f"""
Inputs: images (N, C, H, W) as `(pixels / {p["pixel_max"]:g} - mean) / std` per channel, with
mean ({mean}) and std ({std}) measured on the {recipe.dataset} train split (validation hold-out
excluded). `dfazoo.vision.preprocess(images, "{recipe.model_id}")` applies it;
`dfazoo.vision.preprocessing("{recipe.model_id}")` gives the values at full precision.
"""

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        cfg = recipe.task_config
        data = _cached_dataset(recipe.dataset, None if data_root is None else str(data_root))
        self.data_notes = data.notes
        self.batch_size = int(recipe.batch_size or 128)
        self.eval_batch_size = int(cfg.get("eval_batch_size", 1000))
        val_size = int(cfg.get("val_size", DEFAULT_VAL_SIZE[recipe.dataset]))
        if not 0 <= val_size < len(data.train_x):
            raise ValueError(f"val_size={val_size} must lie in [0, {len(data.train_x)}) for {recipe.dataset}")
        order = np.random.default_rng(SPLIT_SEED).permutation(len(data.train_x))
        train_idx, val_idx = order[: len(order) - val_size], np.sort(order[len(order) - val_size :])
        if cfg.get("train_subset"):
            train_idx = train_idx[: int(cfg["train_subset"])]
        train_idx = np.sort(train_idx)
        train_x = torch.from_numpy(data.train_x[train_idx]).float() / data.pixel_max
        self.mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
        self.std = train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        self.preprocessing = {
            "pixel_max": float(data.pixel_max),
            "mean": self.mean.flatten().tolist(),
            "std": self.std.flatten().tolist(),
        }
        self.tensors: dict[str, tuple[torch.Tensor, torch.Tensor]] = {
            "train": ((train_x - self.mean) / self.std, torch.from_numpy(data.train_y[train_idx]))
        }
        if val_size:
            self.tensors["val"] = self._prepare(data.train_x[val_idx], data.train_y[val_idx], data.pixel_max)
        self.tensors["test"] = self._prepare(data.test_x, data.test_y, data.pixel_max)
        self.splits = tuple(self.tensors)

    def _prepare(self, x: np.ndarray, y: np.ndarray, pixel_max: float) -> tuple[torch.Tensor, torch.Tensor]:
        return (torch.from_numpy(x).float() / pixel_max - self.mean) / self.std, torch.from_numpy(y)

    def train_batches(
        self, epoch: int, generator: torch.Generator
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x, y = self.tensors["train"]
        perm = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), self.batch_size):
            idx = perm[start : start + self.batch_size]
            yield x[idx], y[idx]

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x), y)

    @torch.no_grad()
    def predict(self, model: torch.nn.Module, split: str) -> torch.Tensor:
        """Logits of ``model`` (in eval mode) on every image of ``split``."""
        if split not in self.tensors:
            raise ValueError(f"split={split!r} is not available; have {sorted(self.tensors)}")
        was_training = model.training
        model.eval()
        x, _ = self.tensors[split]
        logits = torch.cat(
            [model(x[i : i + self.eval_batch_size]) for i in range(0, len(x), self.eval_batch_size)]
        )
        model.train(was_training)
        return logits

    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        return classification_metrics(self.predict(model, split), self.tensors[split][1])

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        """The first 128 training images (fixed), as in the paper's alignment statistics."""
        x, y = self.tensors["train"]
        return x[:128], y[:128], F.cross_entropy
