"""The contract between the one trainer and each domain's task (data, loss, metrics)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import torch

from dfazoo.spec.recipe import Recipe

SPLITS: tuple[str, ...] = ("train", "val", "test")


class Task(abc.ABC):
    """A domain task bound to one recipe and one data root.

    Subclasses load their data in ``__init__`` (raising ``DatasetNotFoundError`` when absent)
    and implement the four methods below. ``split`` is one of :attr:`splits`.

    Attributes:
        name: the registry name recipes refer to (``Recipe.task``).
        splits: the splits the task evaluates. Without ``"val"`` the trainer selects the best
            epoch on ``"train"``; without ``"test"`` it reports no test metrics.
        data_notes: provenance caveats of the loaded data (e.g. a re-encoded copy), for cards.
    """

    name: ClassVar[str] = ""
    splits: tuple[str, ...] = SPLITS
    data_notes: str = ""

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        self.recipe = recipe
        self.data_root = data_root

    @property
    def selection_split(self) -> str:
        """The split the best epoch is chosen on: ``"val"`` when the task has one."""
        return "val" if "val" in self.splits else "train"

    @property
    def report_split(self) -> str:
        """The split a trained model is reported on: ``"test"`` when the task has one."""
        return "test" if "test" in self.splits else self.selection_split

    def prepare_model(self, model: torch.nn.Module) -> None:  # noqa: B027 (optional hook)
        """Hook the trainer calls once with the model before training (e.g. to hand it the
        task's tokenizer, saved with it). Nothing by default."""

    def release_extras(self, model: torch.nn.Module, folder: Path) -> dict[str, Any]:
        """Hook the zoo calls when it releases ``model``: write extra files for its card into
        ``folder`` (e.g. a render beside the ground truth) and return what the card reports about
        them, merged into the release's results. Nothing by default."""
        return {}

    def spot_check(self, model: torch.nn.Module, results: dict[str, Any]) -> list[tuple[float, float]]:
        """(re-measured, released) values of the recipe metric on a cheap part of the report split,
        against the per-example records :meth:`release_extras` kept in ``results``; empty when the
        task keeps none (then only a full :meth:`evaluate` re-measures a release)."""
        return []

    @classmethod
    def card_inputs(cls, recipe: Recipe, results: dict[str, Any]) -> str:
        """The model card's "how to prepare inputs" text for a model of this task (markdown,
        starting with a blank line), given its release ``results``. Nothing by default."""
        return ""

    @abc.abstractmethod
    def train_batches(self, epoch: int, generator: torch.Generator) -> Iterable[Any]:
        """The batches of one epoch, shuffled with ``generator`` only (for exact resume)."""

    @abc.abstractmethod
    def loss(self, model: torch.nn.Module, batch: Any) -> torch.Tensor:
        """Forward ``batch`` through ``model`` and return the scalar training loss."""

    @abc.abstractmethod
    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        """Metrics on ``split``; must contain ``recipe.metric``. Deterministic."""

    @abc.abstractmethod
    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        """(inputs, targets, loss_fn) for :func:`dfazoo.measure_alignment`."""
