"""A recipe: everything needed to rebuild, retrain and re-evaluate one zoo model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """One pretrained model of the zoo.

    ``model_id`` is ``<arch>-<dataset>-<method>[-<placement>]``. ``arch_config`` holds the
    architecture's constructor arguments except ``method``, ``placement`` and ``seed``, which
    come from the recipe's own fields. ``task_config`` parametrises the domain task (splits,
    loss reduction, ...). ``optimizer``/``scheduler`` are ``{"name": ..., **kwargs}``.
    """

    model_id: str
    domain: str
    arch: str
    dataset: str
    method: str
    task: str
    metric: str
    arch_config: dict[str, Any] = field(default_factory=dict)
    task_config: dict[str, Any] = field(default_factory=dict)
    placement: str | None = None
    optimizer: dict[str, Any] = field(default_factory=lambda: {"name": "adam", "lr": 1e-3})
    scheduler: dict[str, Any] | None = None
    epochs: int = 10
    batch_size: int | None = None
    eval_every: int = 1
    grad_clip: float | None = None
    seed: int = 0
    tolerance: float = 1e-6
    higher_is_better: bool = True
    description: str = ""
    data_notes: str = ""
    paper_value: float | None = None
    paper_ref: str = ""
    notes: str = ""

    def model_kwargs(self) -> dict[str, Any]:
        """Constructor kwargs for the architecture, method/placement/seed included."""
        kwargs = dict(self.arch_config)
        kwargs["method"] = self.method
        kwargs["seed"] = self.seed
        if self.placement is not None:
            kwargs["placement"] = self.placement
        return kwargs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
