"""Bottleneck masks (principled paper, Figure 4): only b chosen neurons keep their gradient."""

from __future__ import annotations

import torch
from torch import nn


class _MaskGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, mask):  # noqa: ANN001, ANN205
        ctx.save_for_backward(mask)
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):  # noqa: ANN001, ANN205
        (mask,) = ctx.saved_tensors
        return grad * mask.to(grad.dtype), None


class GradientMask(nn.Module):
    """Identity forward; backward zeroes the gradient of all but ``keep`` of ``size`` features.

    The kept features are drawn once at construction from ``seed`` and saved as a buffer.
    """

    def __init__(self, size: int, keep: int, seed: int = 0) -> None:
        super().__init__()
        if not 0 <= keep <= size:
            raise ValueError(f"bottleneck keep={keep} must lie in [0, {size}]")
        gen = torch.Generator().manual_seed(int(seed))
        mask = torch.zeros(size)
        mask[torch.randperm(size, generator=gen)[:keep]] = 1.0
        self.register_buffer("mask", mask, persistent=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled() or not x.requires_grad:
            return x
        return _MaskGradient.apply(x, self.mask)
