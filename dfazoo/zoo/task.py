"""The contract between the one trainer and each domain's task (data, loss, metrics)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from typing import Any

import torch

from dfazoo.zoo.recipe import Recipe

_TASKS: dict[str, type[Task]] = {}


class Task(abc.ABC):
    """A domain task bound to one recipe and one data root.

    Subclasses load their data in ``__init__`` (raising ``DatasetNotFoundError`` when absent)
    and implement the four methods below. ``split`` is ``"train"``, ``"val"`` or ``"test"``.
    """

    name: str = ""

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        self.recipe = recipe
        self.data_root = data_root

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


def register_task(cls: type[Task]) -> type[Task]:
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty name")
    _TASKS[cls.name] = cls
    return cls


def get_task(name: str) -> type[Task]:
    if name not in _TASKS:
        raise KeyError(f"unknown task {name!r}; known: {sorted(_TASKS)}")
    return _TASKS[name]
