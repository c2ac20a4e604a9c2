"""Volume rendering of a radiance field: rays, stratified and hierarchical samples, alpha
compositing over a white background, batched full-image rendering, PSNR and SSIM, PNG output.

A field is called as ``field(points, dirs, fine)`` on flat (N, 3) tensors and returns the raw
(N, 4) output per point: three colour logits (sigmoid) and one density (ReLU) value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

BLENDER_NEAR, BLENDER_FAR = 2.0, 6.0
Field = Callable[[torch.Tensor, torch.Tensor, bool], torch.Tensor]


@dataclass(frozen=True)
class RenderConfig:
    """Samples per ray (``coarse``; ``fine`` extra importance samples, 0 = no fine pass), the
    ray bounds, and how many rays are evaluated at once when rendering full images."""

    coarse: int = 64
    fine: int = 0
    near: float = BLENDER_NEAR
    far: float = BLENDER_FAR
    chunk: int = 4096


def camera_rays(
    height: int, width: int, focal: float, pose: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Origins and (unnormalised) directions, each (H, W, 3), of a pinhole camera-to-world
    ``pose`` in the Blender/OpenGL convention (camera looks down -z, y up)."""
    j, i = torch.meshgrid(
        torch.arange(height, dtype=torch.float32), torch.arange(width, dtype=torch.float32), indexing="ij"
    )
    dirs = torch.stack(
        [(i + 0.5 - width / 2) / focal, -(j + 0.5 - height / 2) / focal, -torch.ones_like(i)], -1
    )
    rays_d = dirs @ pose[:3, :3].T
    return pose[:3, 3].expand_as(rays_d), rays_d


def stratified_depths(rays: int, cfg: RenderConfig, jitter: torch.Tensor | None) -> torch.Tensor:
    """(rays, coarse) depths, one per equal bin of [near, far]: at ``jitter`` in [0, 1) within
    each bin (training), or at the bin midpoints when ``jitter`` is None (evaluation)."""
    edges = torch.linspace(cfg.near, cfg.far, cfg.coarse + 1)
    u = torch.full((rays, cfg.coarse), 0.5) if jitter is None else jitter
    return edges[:-1] + (edges[1:] - edges[:-1]) * u


def composite(
    raw: torch.Tensor, depths: torch.Tensor, rays_d: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Alpha-composite raw (rays, samples, 4) outputs over white: (rgb (rays, 3), weights)."""
    rgb = torch.sigmoid(raw[..., :3])
    sigma = F.relu(raw[..., 3])
    deltas = torch.cat([depths[:, 1:] - depths[:, :-1], torch.full_like(depths[:, :1], 1e10)], -1)
    alpha = 1.0 - torch.exp(-sigma * deltas * rays_d.norm(dim=-1, keepdim=True))
    trans = torch.cumprod(torch.cat([torch.ones_like(alpha[:, :1]), 1.0 - alpha + 1e-10], -1), -1)[:, :-1]
    weights = alpha * trans
    color = (weights[..., None] * rgb).sum(1) + (1.0 - weights.sum(1, keepdim=True))
    return color, weights


def importance_depths(depths: torch.Tensor, weights: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Draw ``u.shape[1]`` depths per ray from the piecewise-constant pdf of the coarse
    ``weights`` (inverse transform sampling between sample midpoints); ``u`` in [0, 1)."""
    mids = 0.5 * (depths[:, 1:] + depths[:, :-1])
    w = weights[:, 1:-1].detach() + 1e-5
    cdf = torch.cat([torch.zeros_like(w[:, :1]), torch.cumsum(w / w.sum(-1, keepdim=True), -1)], -1)
    idx = torch.searchsorted(cdf, u.contiguous(), right=True)
    lo, hi = (idx - 1).clamp(0, cdf.shape[1] - 1), idx.clamp(0, cdf.shape[1] - 1)
    cdf_lo, cdf_hi = cdf.gather(1, lo), cdf.gather(1, hi)
    bin_lo, bin_hi = mids.gather(1, lo), mids.gather(1, hi)
    span = torch.where(cdf_hi - cdf_lo < 1e-5, torch.ones_like(cdf_lo), cdf_hi - cdf_lo)
    return (bin_lo + (u - cdf_lo) / span * (bin_hi - bin_lo)).detach()


def _evaluate(field: Field, rays_o: torch.Tensor, rays_d: torch.Tensor, depths: torch.Tensor, fine: bool):
    points = rays_o[:, None] + rays_d[:, None] * depths[..., None]
    dirs = F.normalize(rays_d, dim=-1)[:, None].expand_as(points)
    raw = field(points.reshape(-1, 3), dirs.reshape(-1, 3), fine).reshape(*depths.shape, -1)
    return composite(raw, depths, rays_d)


def render_rays(
    field: Field,
    rays_o: torch.Tensor,
    rays_d: torch.Tensor,
    cfg: RenderConfig,
    jitter: torch.Tensor | None = None,
    u_fine: torch.Tensor | None = None,
) -> list[torch.Tensor]:
    """Colours (rays, 3) of the coarse pass and, when ``cfg.fine``, of the fine pass (last).

    The fine pass evaluates the fine network on the coarse depths plus ``cfg.fine`` depths
    drawn from the coarse weights (``u_fine`` uniforms, evenly spaced when None).
    """
    depths = stratified_depths(len(rays_o), cfg, jitter)
    color, weights = _evaluate(field, rays_o, rays_d, depths, fine=False)
    if not cfg.fine:
        return [color]
    if u_fine is None:
        u_fine = torch.linspace(0.0, 1.0, cfg.fine + 2)[1:-1].expand(len(rays_o), cfg.fine)
    extra = importance_depths(depths, weights, u_fine)
    merged, _ = torch.sort(torch.cat([depths, extra], -1), -1)
    return [color, _evaluate(field, rays_o, rays_d, merged, fine=True)[0]]


@torch.no_grad()
def render_image(
    field: Field, height: int, width: int, focal: float, pose: torch.Tensor, cfg: RenderConfig
) -> torch.Tensor:
    """The (H, W, 3) image seen from ``pose`` (final pass), ``cfg.chunk`` rays at a time."""
    rays_o, rays_d = (t.reshape(-1, 3) for t in camera_rays(height, width, focal, pose))
    parts = [
        render_rays(field, rays_o[i : i + cfg.chunk], rays_d[i : i + cfg.chunk], cfg)[-1]
        for i in range(0, len(rays_o), cfg.chunk)
    ]
    return torch.cat(parts).reshape(height, width, 3).clamp(0.0, 1.0)


def over_white(rgba: torch.Tensor) -> torch.Tensor:
    """RGB of RGBA images (..., 4) composited over a white background."""
    return rgba[..., :3] * rgba[..., 3:] + (1.0 - rgba[..., 3:])


def psnr(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [0, 1]."""
    mse = F.mse_loss(pred, target).item()
    return -10.0 * math.log10(max(mse, 1e-12))


def ssim(pred: torch.Tensor, target: torch.Tensor) -> float:
    """scikit-image's SSIM (Gaussian window, sigma 1.5, as Wang et al. 2004) of two (H, W, 3)
    images in [0, 1], averaged over channels."""
    from skimage.metrics import structural_similarity

    return float(
        structural_similarity(
            np.asarray(pred, dtype=np.float64),
            np.asarray(target, dtype=np.float64),
            channel_axis=-1,
            data_range=1.0,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
        )
    )


def orbit_pose(angle: float, elevation: float = -30.0, radius: float = 4.0) -> torch.Tensor:
    """Camera-to-world pose on a circle around the origin (Blender scenes), looking at it;
    ``angle`` and ``elevation`` in degrees (negative elevation looks down from above)."""
    theta, phi = math.radians(angle), math.radians(elevation)
    trans = torch.eye(4)
    trans[2, 3] = radius
    rot_phi = torch.tensor(
        [
            [1, 0, 0, 0],
            [0, math.cos(phi), -math.sin(phi), 0],
            [0, math.sin(phi), math.cos(phi), 0],
            [0, 0, 0, 1],
        ]
    )
    rot_theta = torch.tensor(
        [
            [math.cos(theta), 0, -math.sin(theta), 0],
            [0, 1, 0, 0],
            [math.sin(theta), 0, math.cos(theta), 0],
            [0, 0, 0, 1],
        ]
    )
    swap = torch.tensor([[-1.0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
    return swap @ rot_theta @ rot_phi @ trans


def to_png(image: torch.Tensor, path: Path) -> None:
    """Write an (H, W, 3) image with values in [0, 1] as an 8-bit PNG."""
    from PIL import Image

    Image.fromarray((image.clamp(0, 1).numpy() * 255).round().astype(np.uint8)).save(path)
