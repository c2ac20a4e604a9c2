"""The one feedback matrix a DFA model shares between all its feedback points.

Principled paper (eq. 7-8): U ~ N(0, 1), B = U / sqrt(l_max * e), and a point of size l_i
uses B_i = sqrt(l_max / l_i) * B[:l_i]. The 2020 paper's code instead draws U ~ U(-1, 1) and
divides the projection by sqrt(l_max). Both are drawn eagerly from an explicit seed with a
private ``torch.Generator`` and kept as a persistent buffer, so checkpoints carry the matrix.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

FeedbackInit = Literal["principled", "uniform2020"]
FEEDBACK_INITS: tuple[str, ...] = ("principled", "uniform2020")


def draw_feedback(
    l_max: int, error_size: int, init: FeedbackInit = "principled", seed: int = 0
) -> torch.Tensor:
    """Draw the raw matrix U of shape (l_max, error_size) from ``seed`` alone."""
    if init not in FEEDBACK_INITS:
        raise ValueError(f"feedback_init={init!r} is unknown; choose one of {FEEDBACK_INITS}")
    if l_max < 1 or error_size < 1:
        raise ValueError(f"feedback matrix needs positive sizes, got ({l_max}, {error_size})")
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    if init == "principled":
        return torch.randn(l_max, error_size, generator=gen)
    return torch.rand(l_max, error_size, generator=gen) * 2.0 - 1.0


class FeedbackMatrix(nn.Module):
    """Holds the shared matrix B (l_max x e) and derives every point's slice B_i."""

    def __init__(
        self,
        l_max: int,
        error_size: int,
        init: FeedbackInit = "principled",
        seed: int = 0,
        normalize: bool = True,
    ) -> None:
        super().__init__()
        self.l_max, self.error_size = int(l_max), int(error_size)
        self.init, self.seed, self.normalize = init, int(seed), bool(normalize)
        raw = draw_feedback(self.l_max, self.error_size, init, seed)
        if normalize and init == "principled":
            raw = raw / math.sqrt(self.l_max * self.error_size)
        self.register_buffer("matrix", raw, persistent=True)

    def scale(self, size: int) -> float:
        """The factor applied to the first ``size`` rows for a point of that size."""
        if not self.normalize:
            return 1.0
        if self.init == "principled":
            return math.sqrt(self.l_max / size)
        return 1.0 / math.sqrt(self.l_max)

    def slice_for(self, size: int) -> torch.Tensor:
        """B_i for a point with ``size`` features (rows of the returned matrix)."""
        if size > self.l_max:
            raise ValueError(f"point of size {size} exceeds the feedback matrix's l_max={self.l_max}")
        return self.matrix[:size] * self.scale(size)

    def extra_repr(self) -> str:
        return f"l_max={self.l_max}, error_size={self.error_size}, init={self.init}, seed={self.seed}"


def feedback_memory_bytes(
    point_sizes: list[int], error_size: int, bytes_per_value: int = 4
) -> dict[str, int]:
    """Memory of one shared matrix against one matrix per point (principled paper, Table 1)."""
    return {
        "unique": max(point_sizes) * error_size * bytes_per_value,
        "per_layer": sum(point_sizes) * error_size * bytes_per_value,
    }
