"""VGG-16 (Simonyan & Zisserman, configuration D) with a feedback point after every layer."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook, make_activation
from dfazoo.vision.cnn import he_init

VGG16_LAYOUT: tuple[int | str, ...] = (
    64,
    64,
    "M",
    128,
    128,
    "M",
    256,
    256,
    256,
    "M",
    512,
    512,
    512,
    "M",
    512,
    512,
    512,
    "M",
)


def vgg16_point_sizes(image_size: int = 224, width_mult: float = 1.0, fc_width: int = 4096) -> list[int]:
    """Sizes l_i of VGG-16's 15 feedback points (13 conv outputs C*H*W, then 2 hidden FC layers).

    Computed without building the model, so the paper's ImageNet memory (Table 1) can be
    reported without allocating a multi-gigabyte feedback matrix.
    """
    sizes, size = [], image_size
    for item in VGG16_LAYOUT:
        if item == "M":
            size //= 2
        else:
            sizes.append(_width(item, width_mult) * size * size)
    return sizes + [fc_width, fc_width]


def _width(channels: int, width_mult: float) -> int:
    return max(1, round(channels * width_mult))


class VGG16(DFAModel):
    """``13 x [Conv3x3 -> (BN) -> act -> point] with 5 max-pools -> 2 x [Linear -> act -> (DO) -> point] -> Linear``.

    ``width_mult`` scales every conv width (1.0 is the original VGG-16) and ``fc_width`` the
    hidden FC layers (4096 for ImageNet, 512 is the usual CIFAR choice). ``**feedback``:
    :class:`~dfazoo.core.FeedbackConfig` fields.
    """

    arch_name = "vgg16"
    head_name = "classifier"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 32,
        num_classes: int = 10,
        width_mult: float = 1.0,
        fc_width: int = 512,
        activation: str = "relu",
        batch_norm: bool = False,
        dropout: float = 0.0,
        **feedback: Any,
    ) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width, size = in_channels, image_size
        for item in VGG16_LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
                size //= 2
                continue
            out = _width(item, width_mult)
            layers.append(nn.Conv2d(width, out, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(out))
            layers += [make_activation(activation), FeedbackPoint(out * size * size)]
            width = out
        self.features = nn.Sequential(*layers)
        fc: list[nn.Module] = [nn.Flatten()]
        for i in range(2):
            fc += [
                nn.Linear(width * size * size if i == 0 else fc_width, fc_width),
                make_activation(activation),
            ]
            if dropout:
                fc.append(nn.Dropout(dropout))
            fc.append(FeedbackPoint(fc_width))
        self.fc = nn.Sequential(*fc)
        self.classifier = nn.Linear(fc_width, num_classes)
        he_init(self)
        self.output_hook = OutputHook()
        self.setup_feedback(num_classes, **feedback)

    def conv_layers(self) -> list[nn.Conv2d]:
        return [m for m in self.features if isinstance(m, nn.Conv2d)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_hook(self.classifier(self.fc(self.features(x))))
