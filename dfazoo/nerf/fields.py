"""Radiance-field MLPs trained with DFA (scaling paper §3.1.1 and appendix B).

Every hidden layer of the trunk ends in a :class:`FeedbackPoint` over (points, width): all the
sampled points of all rays share the one feedback matrix, and the DFA error is the gradient of
the loss with respect to each point's raw (r, g, b, density) output. The trunk's last layer of
each block between skips is tagged ``block`` (macro placement), the others ``sublayer`` (micro
adds them). The heads (density, feature, view-dependent colour) learn by backpropagation.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook
from dfazoo.nerf.render import BLENDER_FAR, BLENDER_NEAR, RenderConfig


def encode(x: torch.Tensor, freqs: int) -> torch.Tensor:
    """``[x, sin(2^k x), cos(2^k x) for k < freqs]`` along the last dim (3 + 6 freqs features)."""
    if not freqs:
        return x
    scaled = x[..., None, :] * (2.0 ** torch.arange(freqs, dtype=x.dtype, device=x.device))[:, None]
    return torch.cat([x, torch.sin(scaled).flatten(-2), torch.cos(scaled).flatten(-2)], -1)


class RadianceMLP(nn.Module):
    """``depth`` x ``width`` ReLU trunk (the encoded input re-enters after each layer index in
    ``skips``), a density head, and a colour head: with ``dir_freqs`` > 0 a 256 -> 256 feature
    layer, concatenated with the encoded view direction, a ``width // 2`` ReLU layer and the
    RGB layer (NeRF's code); without, RGB directly from the trunk."""

    def __init__(self, depth: int, width: int, skips: Sequence[int], pos_freqs: int, dir_freqs: int) -> None:
        super().__init__()
        self.pos_freqs, self.dir_freqs, self.skips = pos_freqs, dir_freqs, tuple(skips)
        in_pos = 3 + 6 * pos_freqs
        boundaries = {*self.skips, depth - 1}
        self.layers = nn.ModuleList()
        self.points = nn.ModuleList()
        width_in = in_pos
        for i in range(depth):
            self.layers.append(nn.Linear(width_in, width))
            self.points.append(FeedbackPoint(width, tag="block" if i in boundaries else "sublayer"))
            width_in = width + (in_pos if i in self.skips else 0)
        self.density = nn.Linear(width, 1)
        if dir_freqs:
            self.feature = nn.Linear(width, width)
            self.view = nn.Linear(width + 3 + 6 * dir_freqs, width // 2)
            self.rgb = nn.Linear(width // 2, 3)
        else:
            self.rgb = nn.Linear(width, 3)

    def forward(self, points: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
        x = encode(points, self.pos_freqs)
        h = x
        for i, (layer, point) in enumerate(zip(self.layers, self.points)):
            h = point(torch.relu(layer(h)))
            if i in self.skips:
                h = torch.cat([x, h], -1)
        if self.dir_freqs:
            v = torch.cat([self.feature(h), encode(dirs, self.dir_freqs)], -1)
            rgb = self.rgb(torch.relu(self.view(v)))
        else:
            rgb = self.rgb(h)
        return torch.cat([rgb, self.density(h)], -1)


class NeRF(DFAModel):
    """NeRF (Mildenhall et al. 2020, as in its code): coarse and fine 8 x 256 MLPs, skip after
    layer index 4, positional encoding of 10 (position) and 4 (view direction) frequencies,
    ``samples`` stratified plus ``fine_samples`` hierarchical samples per ray.

    ``forward(points, dirs, fine)`` maps flat (N, 3) points and unit directions to the raw
    (N, 4) output (colour logits, density) of the fine (or coarse) network.
    """

    arch_name = "nerf"
    feedback_defaults = {"placement": "micro"}
    fixed_args: ClassVar[dict[str, Any]] = {}
    error_size = 4

    def __init__(
        self,
        depth: int = 8,
        width: int = 256,
        skips: Sequence[int] = (4,),
        pos_freqs: int = 10,
        dir_freqs: int = 4,
        samples: int = 64,
        fine_samples: int = 128,
        near: float = BLENDER_NEAR,
        far: float = BLENDER_FAR,
        seed: int = 0,
        **feedback: Any,
    ) -> None:
        super().__init__()
        skips = [int(s) for s in skips]
        self.coarse = RadianceMLP(depth, width, skips, pos_freqs, dir_freqs)
        self.fine = RadianceMLP(depth, width, skips, pos_freqs, dir_freqs) if fine_samples else None
        self.render_config = RenderConfig(samples, fine_samples, near, far)
        self.output_hook = OutputHook()
        self.setup_feedback(self.error_size, seed=seed, **feedback)

    def forward(self, points: torch.Tensor, dirs: torch.Tensor, fine: bool = True) -> torch.Tensor:
        net = self.fine if fine and self.fine is not None else self.coarse
        return self.output_hook(net(points, dirs))


class TinyNeRF(NeRF):
    """The paper's Tiny-NeRF (appendix B): one ``depth`` x ``width`` MLP (default 4 x 128, half
    NeRF's width), no view dependence, no coarse network (``samples`` stratified samples only),
    positional encoding of 6 frequencies (as the original tiny_nerf notebook)."""

    arch_name = "tinynerf"

    fixed_args: ClassVar[dict[str, Any]] = {"skips": (), "dir_freqs": 0, "fine_samples": 0}

    def __init__(
        self, depth: int = 4, width: int = 128, pos_freqs: int = 6, samples: int = 32, **rest: Any
    ) -> None:
        """``rest``: NeRF's ``near``, ``far`` and ``seed``, and the feedback arguments."""
        super().__init__(depth, width, pos_freqs=pos_freqs, samples=samples, **self.fixed_args, **rest)


ARCHITECTURES: dict[str, type[NeRF]] = {cls.arch_name: cls for cls in (NeRF, TinyNeRF)}


def render_config_of(arch: str, arch_config: dict[str, Any]) -> RenderConfig:
    """The :class:`RenderConfig` a model of ``arch`` built with ``arch_config`` renders with, without
    building it: the architecture's own defaults and fixed arguments, bound to NeRF's signature."""
    cls = ARCHITECTURES[arch]
    own = {k: p.default for k, p in inspect.signature(cls).parameters.items() if p.default is not p.empty}
    args = inspect.signature(NeRF).bind_partial(**{**own, **cls.fixed_args, **arch_config})
    args.apply_defaults()
    a = args.arguments
    return RenderConfig(int(a["samples"]), int(a["fine_samples"]), float(a["near"]), float(a["far"]))
