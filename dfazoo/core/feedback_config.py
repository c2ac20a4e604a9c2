"""The feedback arguments every dfazoo architecture takes, declared once."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from dfazoo.core.feedback import FEEDBACK_INITS, FeedbackInit
from dfazoo.core.points import ERROR_REDUCTIONS, METHODS, PLACEMENTS, ErrorReduction


@dataclass(frozen=True)
class FeedbackConfig:
    """How a model receives its training signal.

    Args:
        method: ``bp``, ``dfa`` or ``shallow`` (only the top layer learns).
        placement: ``macro`` (points tagged ``block``) or ``micro`` (also ``sublayer``).
        seed: draws the feedback matrix (and nothing else).
        feedback_init: ``principled`` (N(0, 1), the principled paper) or ``uniform2020``.
        feedback_norm: scale each point's slice as its paper does.
        error_reduction: ``"sum"`` rescales the DFA error by the batch size, as the principled
            paper's code does; ``"mean"`` uses the gradient of the mean loss as is.
    """

    method: str = "dfa"
    placement: str = "macro"
    seed: int = 0
    feedback_init: FeedbackInit = "principled"
    feedback_norm: bool = True
    error_reduction: ErrorReduction = "mean"

    def __post_init__(self) -> None:
        for name, choices in (
            ("method", METHODS),
            ("placement", tuple(PLACEMENTS)),
            ("feedback_init", FEEDBACK_INITS),
            ("error_reduction", ERROR_REDUCTIONS),
        ):
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name}={value!r} is unknown; choose one of {choices}")

    @classmethod
    def from_kwargs(cls, **kwargs: Any) -> FeedbackConfig:
        """Like ``FeedbackConfig(**kwargs)``, but an unknown key is named with the allowed ones."""
        allowed = tuple(f.name for f in fields(cls))
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise TypeError(
                f"unknown feedback argument(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}"
            )
        return cls(**kwargs)
