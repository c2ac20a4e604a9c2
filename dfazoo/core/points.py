"""Feedback points, the output hook, and the single autograd node that delivers DFA signals.

In ``dfa`` mode every active point records its input and hands a *detached* tensor to the
layers above, so autograd never computes the input-gradient matmuls that DFA skips. The output
hook then ties the network output and every recorded tensor into one autograd node
(:class:`_DeliverFeedback`). Its backward receives the output error e, computes the random
projection once (one matmul for all points) and returns B_i e as the gradient of each point,
all inside the ordinary backward pass: no reentrant ``backward`` calls.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from dfazoo.core.feedback import FeedbackMatrix
from dfazoo.methods import ERROR_REDUCTIONS, METHODS, PLACEMENTS, ErrorReduction, Method

__all__ = [
    "ERROR_REDUCTIONS",
    "METHODS",
    "PLACEMENTS",
    "DFAEngine",
    "ErrorReduction",
    "FeedbackPoint",
    "Method",
    "OutputHook",
]


class FeedbackPoint(nn.Module):
    """Where a hidden layer receives its DFA signal; sits after the layer's non-linearity.

    Args:
        size: features per position (product of the non-shared dims), the l_i of the paper.
        shared_dims: how many leading dims are positions sharing the matrix: 1 for (batch, D)
            or (nodes, D), 2 for (batch, seq, D).
        tag: placement tag, e.g. ``"block"`` or ``"sublayer"``.
    """

    def __init__(self, size: int, shared_dims: int = 1, tag: str = "block") -> None:
        super().__init__()
        self.size, self.shared_dims, self.tag = int(size), int(shared_dims), tag
        self.point_name = ""
        self.active = True
        self._engine: DFAEngine | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        engine = self._engine
        if engine is None or not self.active or (engine.method == "bp" and not engine.aligning):
            return x
        if engine.aligning:
            engine.record(self, x)
            return x
        if not torch.is_grad_enabled():
            return x
        if engine.method == "dfa" and x.requires_grad:
            engine.record(self, x)
        return x.detach()

    def extra_repr(self) -> str:
        return f"size={self.size}, shared_dims={self.shared_dims}, tag={self.tag!r}"


class OutputHook(nn.Module):
    """Marks the network output whose gradient is the DFA error e (last dim = error features)."""

    def __init__(self) -> None:
        super().__init__()
        self._engine: DFAEngine | None = None

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        engine = self._engine
        if engine is None:
            return y
        if engine.aligning:
            engine.output = y
            return y
        recorded = engine.take()
        if engine.method != "dfa" or not recorded or not torch.is_grad_enabled():
            return y
        points = [p for p, _ in recorded]
        return _DeliverFeedback.apply(y, engine, points, *[h for _, h in recorded])


class _DeliverFeedback(torch.autograd.Function):
    @staticmethod
    def forward(ctx, y, engine, points, *hidden):  # noqa: ANN001, ANN205
        ctx.engine, ctx.points = engine, points
        ctx.shapes = [h.shape for h in hidden]
        ctx.dtypes = [h.dtype for h in hidden]
        return y.view_as(y)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        signals = ctx.engine.project(grad, ctx.points, ctx.shapes, ctx.dtypes)
        return (grad, None, None, *signals)


def _world_size() -> int:
    """Ranks whose gradients DDP averages: a per-rank sum becomes a global one times this."""
    dist = torch.distributed
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


class DFAEngine:
    """Per-model state shared by its points and output hook (not a module: holds no weights)."""

    def __init__(self, feedback: FeedbackMatrix, error_reduction: ErrorReduction = "mean") -> None:
        if error_reduction not in ERROR_REDUCTIONS:
            raise ValueError(
                f"error_reduction={error_reduction!r} is unknown; choose one of {ERROR_REDUCTIONS}"
            )
        self.feedback = feedback
        self.error_reduction = error_reduction
        self.method: str = "dfa"
        self.aligning = False
        self.output: torch.Tensor | None = None
        self._recorded: list[tuple[FeedbackPoint, torch.Tensor]] = []

    def record(self, point: FeedbackPoint, x: torch.Tensor) -> None:
        self._recorded.append((point, x))

    def take(self) -> list[tuple[FeedbackPoint, torch.Tensor]]:
        recorded, self._recorded = self._recorded, []
        return recorded

    @contextmanager
    def alignment_pass(self) -> Iterator[None]:
        """Within it, points act as identity (true BP) and record their tensors."""
        self.take()
        self.aligning, self.output = True, None
        try:
            yield
        finally:
            self.aligning = False

    def project(
        self,
        error: torch.Tensor,
        points: list[FeedbackPoint],
        shapes: list[torch.Size],
        dtypes: list[torch.dtype] | None = None,
    ) -> list[torch.Tensor]:
        """B_i e for every point, from a single matmul against the shared matrix."""
        positions = error.shape[:-1]
        e = error.reshape(-1, error.shape[-1])
        if self.error_reduction == "sum":
            e = e * (e.shape[0] * _world_size())
        rows = max(p.size for p in points)
        proj = e @ self.feedback.matrix[:rows].to(e.dtype).T
        signals: list[torch.Tensor] = []
        # Points of equal size and shape get the very same tensor (no extra copies).
        cache: dict[tuple, torch.Tensor] = {}
        for i, (point, shape) in enumerate(zip(points, shapes)):
            dtype = dtypes[i] if dtypes is not None else proj.dtype
            key = (point.size, point.shared_dims, tuple(shape), dtype)
            if key not in cache:
                cache[key] = self._signal(proj, point, shape, positions).to(dtype)
            signals.append(cache[key])
        return signals

    def _signal(
        self, proj: torch.Tensor, point: FeedbackPoint, shape: torch.Size, positions: torch.Size
    ) -> torch.Tensor:
        point_pos = shape[: point.shared_dims]
        if tuple(point_pos[: len(positions)]) != tuple(positions):
            raise RuntimeError(
                f"feedback point {point.point_name!r} has positions {tuple(point_pos)} that do "
                f"not start with the output's positions {tuple(positions)}; check shared_dims"
            )
        size = math.prod(shape[point.shared_dims :])
        if size != point.size:
            raise RuntimeError(
                f"feedback point {point.point_name!r} declared size {point.size} but received "
                f"{size} features per position (shape {tuple(shape)})"
            )
        sig = proj[:, :size]
        scale = self.feedback.scale(size)
        if scale != 1.0:
            sig = sig * scale
        extra = len(point_pos) - len(positions)
        if extra:
            # A point with more positions than the output (e.g. samples along a ray) receives
            # the same projected error at every extra position, as in the 2020 paper's code.
            sig = sig.reshape(*positions, *([1] * extra), size).expand(*point_pos, size)
        return sig.reshape(shape)
