"""Base class of every dfazoo architecture: one feedback matrix, switchable method/placement."""

from __future__ import annotations

from typing import ClassVar

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from dfazoo.core.feedback import FeedbackInit, FeedbackMatrix
from dfazoo.core.points import METHODS, DFAEngine, ErrorReduction, FeedbackPoint, OutputHook

PLACEMENTS: dict[str, frozenset[str]] = {
    "macro": frozenset({"block"}),
    "micro": frozenset({"block", "sublayer"}),
}


class DFAModel(
    nn.Module,
    PyTorchModelHubMixin,
    library_name="dfazoo",
    tags=["direct-feedback-alignment", "dfazoo"],
    repo_url="https://github.com/dfazoo/dfazoo",
):
    """Subclasses build their layers with :class:`FeedbackPoint` and one :class:`OutputHook`,
    then call :meth:`setup_feedback` with the output's error size as the last step of
    ``__init__``. The matrix covers every candidate point, so switching placement or method
    never redraws it.
    """

    arch_name: ClassVar[str] = ""

    def setup_feedback(
        self,
        error_size: int,
        *,
        method: str = "dfa",
        placement: str = "macro",
        feedback_init: FeedbackInit = "principled",
        feedback_norm: bool = True,
        seed: int = 0,
        error_reduction: ErrorReduction = "mean",
    ) -> None:
        points = [m for m in self.modules() if isinstance(m, FeedbackPoint)]
        hooks = [m for m in self.modules() if isinstance(m, OutputHook)]
        if len(hooks) != 1:
            raise ValueError(f"{type(self).__name__} needs exactly one OutputHook, found {len(hooks)}")
        l_max = max([p.size for p in points], default=1)
        self.feedback = FeedbackMatrix(l_max, error_size, feedback_init, seed, feedback_norm)
        self._engine = DFAEngine(self.feedback, error_reduction)
        for name, module in self.named_modules():
            if isinstance(module, (FeedbackPoint, OutputHook)):
                module._engine = self._engine
            if isinstance(module, FeedbackPoint):
                module.point_name = name
        self.set_placement(placement)
        self.set_method(method)

    @property
    def method(self) -> str:
        return self._engine.method

    def set_method(self, method: str) -> DFAModel:
        """Train the same model with ``bp``, ``dfa`` or ``shallow`` (only the top layer)."""
        if method not in METHODS:
            raise ValueError(f"method={method!r} is unknown; choose one of {METHODS}")
        self._engine.method = method
        return self

    def set_placement(self, placement: str) -> DFAModel:
        """``macro``: points tagged ``block``; ``micro``: also those tagged ``sublayer``."""
        if placement not in PLACEMENTS:
            raise ValueError(f"placement={placement!r} is unknown; choose one of {tuple(PLACEMENTS)}")
        self.placement = placement
        for point in self.feedback_points(active_only=False).values():
            point.active = point.tag in PLACEMENTS[placement]
        return self

    def feedback_points(self, active_only: bool = True) -> dict[str, FeedbackPoint]:
        return {
            name: m
            for name, m in self.named_modules()
            if isinstance(m, FeedbackPoint) and (m.active or not active_only)
        }

    def feedback_matrices(self) -> dict[str, torch.Tensor]:
        """{point name: the B_i (l_i x e) actually used} for the active points."""
        return {name: self.feedback.slice_for(p.size) for name, p in self.feedback_points().items()}
