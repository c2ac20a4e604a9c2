"""Small CNN of the principled paper's Table 4: 3 conv layers + a one-layer classifier, tanh."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook, make_activation


def he_init(module: nn.Module) -> None:
    """He (Kaiming normal) weights and zero biases for every conv and linear layer in ``module``."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class CNN(DFAModel):
    """``[Conv5x5 -> (BN) -> act -> MaxPool3x3/2 -> (dropout)] x 3 -> Linear`` with a point per block.

    The paper gives only "3 convolutional layers and a one layer classifier"; the shape here
    (32, 64, 64 filters of 5x5, 3x3 max-pooling with stride 2) follows Nøkland's (2016) DFA
    CIFAR-10 network. A point flattens C x H x W into its size (shared_dims=1), so conv layers
    get a dense random feedback. ``feedback_after="activation"`` puts it on the conv output after
    the non-linearity (before pooling: every position gets a signal, also those the pooling
    drops); ``"pool"`` puts it on the block output, so the signal reaches the conv only through
    the positions the pooling keeps, as BP's does. Dropout comes after the pooling: before it,
    the max over a window of rescaled survivors (x 1/(1-p)) would not keep the activations'
    expected size, so training and evaluation would see different feature scales.
    ``**feedback``: :class:`~dfazoo.core.FeedbackConfig` fields.
    """

    arch_name = "cnn"
    head_name = "classifier"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
        channels: Sequence[int] = (32, 64, 64),
        kernel_size: int = 5,
        activation: str = "tanh",
        negative_slope: float = 0.01,
        batch_norm: bool = False,
        dropout: float = 0.0,
        feedback_after: str = "activation",
        **feedback: Any,
    ) -> None:
        super().__init__()
        if feedback_after not in ("activation", "pool"):
            raise ValueError(f"feedback_after={feedback_after!r}; choose 'activation' or 'pool'")
        layers: list[nn.Module] = []
        width, size = in_channels, image_size
        for out in (int(c) for c in channels):
            layers.append(nn.Conv2d(width, out, kernel_size, padding=kernel_size // 2))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers.append(make_activation(activation, negative_slope))
            pooled = (size - 1) // 2 + 1
            if feedback_after == "activation":
                layers.append(FeedbackPoint(out * size * size))
            layers.append(nn.MaxPool2d(3, stride=2, padding=1))
            if dropout:
                layers.append(nn.Dropout(dropout))
            if feedback_after == "pool":
                layers.append(FeedbackPoint(out * pooled * pooled))
            width, size = out, pooled
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(width * size * size, num_classes)
        he_init(self)
        self.output_hook = OutputHook()
        self.setup_feedback(num_classes, **feedback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_hook(self.classifier(self.features(x).flatten(1)))
