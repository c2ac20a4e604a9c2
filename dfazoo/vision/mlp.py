"""Fully connected DFA network (principled paper, Table 2 and Figure 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, GradientMask, OutputHook, make_activation


class MLP(DFAModel):
    """``in -> [Linear -> (BN) -> act -> (dropout) -> point] x len(hidden) -> Linear -> out``.

    Args:
        activation: tanh, relu, leaky_relu (with ``negative_slope``, e.g. -0.5) or abs.
        seed: draws the feedback matrix and the bottleneck mask.
        bottleneck_layer / bottleneck_keep: keep the gradient of only ``keep`` neurons of that
            hidden layer (1-based), the mask drawn from ``seed`` at init.
        feedback: the other :class:`~dfazoo.core.FeedbackConfig` fields.
    """

    arch_name = "mlp"

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        activation: str = "tanh",
        seed: int = 0,
        negative_slope: float = 0.01,
        batch_norm: bool = False,
        dropout: float = 0.0,
        input_dropout: float = 0.0,
        bottleneck_layer: int | None = None,
        bottleneck_keep: int | None = None,
        init: str = "he",
        **feedback: Any,
    ) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        layers: list[nn.Module] = [nn.Flatten()]
        if input_dropout:
            layers.append(nn.Dropout(input_dropout))
        width = in_features
        for i, h in enumerate(hidden, start=1):
            linear = nn.Linear(width, h)
            self._init_linear(linear, init)
            layers.append(linear)
            if batch_norm:
                layers.append(nn.BatchNorm1d(h))
            layers.append(make_activation(activation, negative_slope))
            if dropout:
                layers.append(nn.Dropout(dropout))
            if bottleneck_layer == i and bottleneck_keep is not None:
                layers.append(GradientMask(h, bottleneck_keep, seed))
            layers.append(FeedbackPoint(h))
            width = h
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, out_features)
        self._init_linear(self.head, init)
        self.output_hook = OutputHook()
        self.setup_feedback(out_features, seed=seed, **feedback)

    @staticmethod
    def _init_linear(linear: nn.Linear, init: str) -> None:
        if init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        elif init != "default":
            raise ValueError(f"init={init!r} is unknown; choose 'he' or 'default'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_hook(self.head(self.body(x)))
