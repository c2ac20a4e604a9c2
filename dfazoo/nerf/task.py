"""View synthesis task: random training rays of the train views, PSNR/SSIM on held-out views.

An "epoch" is ``steps_per_epoch`` batches of ``batch_size`` rays drawn uniformly (with the
trainer's generator) from all the pixels of the training views, so the one trainer and runner
drive it; every method gets the same steps, rays per step and samples per ray.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from dfazoo.data.nerf import BlenderScene, load_blender
from dfazoo.nerf.fields import render_config_of
from dfazoo.nerf.render import (
    camera_rays,
    composite,
    over_white,
    psnr,
    render_image,
    render_rays,
    ssim,
    to_png,
)
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task

HOLDOUT_EVERY = 10  # test views: train frames i % 10 == 0; validation views: i % 10 == 5
RENDER_NAME = "render.png"  # a zoo card's held-out view: ground truth beside the model's render
SPOT_VIEWS = (0, 5)  # the test views :meth:`ViewSynthesisTask.spot_check` re-renders


@functools.lru_cache(maxsize=2)
def cached_scene(root: str | None, scene: str, size: int) -> BlenderScene:
    """The Blender ``scene`` at ``size`` x ``size`` with the task's held-out views (kept in memory)."""
    return load_blender(root, scene, size=size, holdout_every=HOLDOUT_EVERY)


def _model(net: torch.nn.Module) -> torch.nn.Module:
    return getattr(net, "module", net)  # unwrap DistributedDataParallel


class ViewSynthesisTask(Task):
    """A NeRF-Synthetic scene at ``size`` x ``size`` (``task_config``: ``scene`` "lego",
    ``size`` 100, ``steps_per_epoch`` 100, ``val_views`` (validation views rendered for
    selection, default all), ``chunk`` rays per evaluation batch). Metrics: ``psnr`` (dB, mean over views),
    ``ssim`` and ``mse``; the training loss is the MSE of the coarse plus the fine colours.
    Samples per ray come from the model's ``render_config``.
    """

    name = "view_synthesis"

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        cfg = recipe.task_config
        self.scene = cached_scene(
            None if data_root is None else str(data_root), cfg.get("scene", "lego"), int(cfg.get("size", 100))
        )
        self.data_notes = f"{self.scene.notes}; held-out views never trained on; images {self.scene.height}x{self.scene.width}"
        self.batch_size = int(recipe.batch_size or 1024)
        self.steps_per_epoch = int(cfg.get("steps_per_epoch", 100))
        self.val_views = cfg.get("val_views")
        self.chunk = int(cfg.get("chunk", 4096))
        self.render_config = render_config_of(recipe.arch, recipe.arch_config)
        view = self.scene.splits["train"]
        rays = [camera_rays(self.scene.height, self.scene.width, self.scene.focal, p) for p in view.poses]
        self.rays_o = torch.cat([o.reshape(-1, 3) for o, _ in rays])
        self.rays_d = torch.cat([d.reshape(-1, 3) for _, d in rays])
        self.target = over_white(view.images).reshape(-1, 3)

    def train_batches(self, epoch: int, generator: torch.Generator) -> list[tuple[torch.Tensor, ...]]:
        """(origins, directions, target colours, coarse jitter, fine uniforms) per step."""
        coarse, fine = self.render_config.coarse, self.render_config.fine
        batches = []
        for _ in range(self.steps_per_epoch):
            idx = torch.randint(len(self.target), (self.batch_size,), generator=generator)
            jitter = torch.rand(self.batch_size, coarse, generator=generator)
            u_fine = torch.rand(self.batch_size, fine, generator=generator).sort(-1).values
            batches.append((self.rays_o[idx], self.rays_d[idx], self.target[idx], jitter, u_fine))
        return batches

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        rays_o, rays_d, target, jitter, u_fine = batch
        cfg = _model(model).render_config
        colors = render_rays(model, rays_o, rays_d, cfg, jitter, u_fine if cfg.fine else None)
        return sum(F.mse_loss(c, target) for c in colors)  # type: ignore[return-value]

    def views(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(poses, RGB images over white) of the views of ``split`` that are evaluated."""
        if split not in self.scene.splits:
            raise ValueError(f"split={split!r} is not available; have {sorted(self.scene.splits)}")
        view = self.scene.splits[split]
        n = (
            len(view.poses)
            if split != "val" or self.val_views is None
            else min(int(self.val_views), len(view.poses))
        )
        return view.poses[:n], over_white(view.images[:n])

    def render(self, model: torch.nn.Module, pose: torch.Tensor) -> torch.Tensor:
        """The model's (H, W, 3) image from ``pose`` at the task's size."""
        cfg = dataclasses.replace(_model(model).render_config, chunk=self.chunk)
        return render_image(model, self.scene.height, self.scene.width, self.scene.focal, pose, cfg)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        poses, images = self.views(split)
        preds = [self.render(model, pose) for pose in poses]
        return {
            "psnr": sum(psnr(p, t) for p, t in zip(preds, images)) / len(preds),
            "ssim": sum(ssim(p, t) for p, t in zip(preds, images)) / len(preds),
            "mse": sum(F.mse_loss(p, t).item() for p, t in zip(preds, images)) / len(preds),
        }

    @classmethod
    def card_inputs(cls, recipe: Recipe, results: dict[str, Any]) -> str:
        """A radiance field's inputs, its render command and a held-out view beside the ground truth."""
        text = f"""
Inputs: 3-D points and view directions along camera rays (`dfazoo.nerf.render.render_image` renders a
camera pose). `dfazoo render {recipe.model_id} --out DIR --data-root D` writes the held-out test
views (PNG, beside their ground truth) and a turntable GIF.
"""
        render = results.get("render")
        if render:
            text += f"""
![held-out view: ground truth (left), this model (right)]({render["file"]})

Held-out view `{render["view"]}` (never trained on) at {render["size"]}: ground truth left, this
model right; PSNR {render["psnr"]:.2f} dB, SSIM {render["ssim"]:.3f} on this view.
"""
        return text

    @torch.no_grad()
    def release_extras(self, model: torch.nn.Module, folder: Path) -> dict[str, Any]:
        """``render.png``: the first held-out test view, ground truth (left) beside ``model``'s
        render (right), and that view's PSNR / SSIM for the card; ``test_views``: every test
        view's PSNR / SSIM (their mean is the test metric), which :meth:`spot_check` re-measures."""
        poses, images = self.views("test")
        files = self.scene.splits["test"].files
        preds = [self.render(model, pose) for pose in poses]
        views = [
            {"view": file, "psnr": psnr(pred, target), "ssim": ssim(pred, target)}
            for file, pred, target in zip(files, preds, images)
        ]
        gap = torch.ones(images[0].shape[0], 2, 3)
        to_png(torch.cat([images[0], gap, preds[0]], dim=1), folder / RENDER_NAME)
        render = {"file": RENDER_NAME, "size": f"{self.scene.height}x{self.scene.width}", **views[0]}
        return {"render": render, "test_views": views}

    @torch.no_grad()
    def spot_check(self, model: torch.nn.Module, results: dict[str, Any]) -> list[tuple[float, float]]:
        """PSNR of the test views at :data:`SPOT_VIEWS` (of ``results["test_views"]``), re-rendered,
        beside the released values: a check of a large field in a fraction of the full render."""
        released = results.get("test_views") or []
        poses, images = self.views("test")
        files = self.scene.splits["test"].files
        checks = []
        for index in SPOT_VIEWS:
            if index < len(released):
                if released[index]["view"] != files[index]:
                    raise ValueError(
                        f"released test view {index} is {released[index]['view']}, the data's {files[index]}"
                    )
                checks.append(
                    (psnr(self.render(model, poses[index]), images[index]), released[index]["psnr"])
                )
        return checks

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        """The final pass's points of 128 fixed training rays (every 97th pixel), at the bin
        midpoints; the loss composites their raw outputs and compares with the pixels."""
        cfg = self.render_config
        idx = torch.arange(128) * 97 % len(self.target)
        rays_o, rays_d = self.rays_o[idx], self.rays_d[idx]
        coarse = cfg.coarse
        edges = torch.linspace(cfg.near, cfg.far, coarse + 1)
        depths = (0.5 * (edges[:-1] + edges[1:])).expand(len(idx), coarse)
        points = (rays_o[:, None] + rays_d[:, None] * depths[..., None]).reshape(-1, 3)
        dirs = F.normalize(rays_d, dim=-1)[:, None].expand(len(idx), coarse, 3).reshape(-1, 3)

        def loss_fn(raw: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            color, _ = composite(raw.reshape(len(idx), coarse, 4), depths, rays_d)
            return F.mse_loss(color, target)

        return (points, dirs, bool(cfg.fine)), self.target[idx], loss_fn
