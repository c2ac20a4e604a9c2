"""A recipe: everything needed to rebuild, retrain and re-evaluate one zoo model."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Fields that describe a recipe but do not change what training produces: they stay out of
# :meth:`Recipe.run_key`, so rewording a card or renaming a model reuses the same run.
DESCRIPTIVE_FIELDS: frozenset[str] = frozenset(
    {"model_id", "description", "data_notes", "paper_value", "paper_ref", "notes", "tolerance"}
)


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

    def training_dict(self) -> dict[str, Any]:
        """The fields that determine the trained weights (all but :data:`DESCRIPTIVE_FIELDS`)."""
        return {k: v for k, v in self.to_dict().items() if k not in DESCRIPTIVE_FIELDS}

    def run_key(self) -> str:
        """12 hex digits of the SHA-256 of :meth:`training_dict` (canonical JSON): two recipes
        share a run exactly when they would train the same weights."""
        canonical = json.dumps(self.training_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]
