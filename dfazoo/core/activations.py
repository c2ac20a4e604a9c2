"""Activations studied by the principled paper (tanh, ReLU, leaky ReLU incl. slope -0.5, |x|)."""

from __future__ import annotations

import torch
from torch import nn

ACTIVATIONS: tuple[str, ...] = ("tanh", "relu", "leaky_relu", "abs")


class Abs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.abs()


def make_activation(name: str, negative_slope: float = 0.01) -> nn.Module:
    """Build an activation by name; ``negative_slope`` applies to ``leaky_relu`` (may be < 0)."""
    if name == "tanh":
        return nn.Tanh()
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(negative_slope)
    if name == "abs":
        return Abs()
    raise ValueError(f"activation={name!r} is unknown; choose one of {ACTIVATIONS}")
