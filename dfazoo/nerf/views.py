"""Renders of a trained radiance field: the held-out test views as PNG and a turntable GIF."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from dfazoo.data.nerf import BlenderScene
from dfazoo.data.root import DatasetNotFoundError, data_root
from dfazoo.nerf.fields import NeRF
from dfazoo.nerf.render import orbit_pose, over_white, psnr, render_image, ssim, to_png
from dfazoo.nerf.task import cached_scene


def load_scene(root: str | os.PathLike[str] | None, scene: str = "lego", size: int = 100) -> BlenderScene:
    """The scene with the task's held-out views; a folder without ``transforms_train.json``
    raises :class:`DatasetNotFoundError` (one line) instead of trying to download it."""
    folder = data_root(root) / "nerf" / "nerf_synthetic" / scene
    if not (folder / "transforms_train.json").is_file():
        raise DatasetNotFoundError(f"scene folder {folder} has no transforms_train.json")
    return cached_scene(None if root is None else str(root), scene, int(size))


def render_views(
    model: NeRF, scene: BlenderScene, out: str | os.PathLike[str], frames: int = 40, progress: bool = True
) -> dict[str, float]:
    """Write ``test_<i>.png`` (render) and ``test_<i>_gt.png`` for every held-out test view,
    ``turntable.gif`` (``frames`` views on a circle at 30 degrees elevation) and
    ``metrics.json`` (mean test PSNR/SSIM) into ``out``; returns the metrics."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    view = scene.splits["test"]
    cfg = dataclasses.replace(model.render_config, chunk=4096)
    model.eval()
    h, w, f = scene.height, scene.width, scene.focal
    bar = tqdm(total=len(view.poses) + frames, desc="render", unit="view", disable=not progress)
    scores = []
    for i, (pose, rgba, name) in enumerate(zip(view.poses, view.images, view.files)):
        pred, target = render_image(model, h, w, f, pose, cfg), over_white(rgba)
        to_png(pred, out / f"test_{i:02d}.png")
        to_png(target, out / f"test_{i:02d}_gt.png")
        scores.append({"file": name, "psnr": psnr(pred, target), "ssim": ssim(pred, target)})
        bar.update()
    gif = []
    for angle in np.linspace(0.0, 360.0, frames, endpoint=False):
        image = render_image(model, h, w, f, orbit_pose(float(angle)), cfg)
        gif.append(Image.fromarray((image.numpy() * 255).round().astype(np.uint8)))
        bar.update()
    bar.close()
    if gif:
        gif[0].save(out / "turntable.gif", save_all=True, append_images=gif[1:], duration=80, loop=0)
    metrics = {
        "psnr": float(np.mean([s["psnr"] for s in scores])),
        "ssim": float(np.mean([s["ssim"] for s in scores])),
        "views": scores,
        "held_out": "test views: train frames i % 10 == 0, never trained on",
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
