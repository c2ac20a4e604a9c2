"""A small generated NeRF-Synthetic scene: a coloured ball seen from a circle of cameras."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from PIL import Image

from dfazoo.nerf.render import orbit_pose


def make_scene(root: Path, frames: int = 20, size: int = 12, scene: str = "lego") -> Path:
    """Write ``nerf/nerf_synthetic/<scene>/`` under ``root`` (train split only, RGBA PNGs) and
    return the scene folder. Frame ``i`` looks at the origin from angle ``i * 360 / frames``."""
    folder = root / "nerf" / "nerf_synthetic" / scene
    (folder / "train").mkdir(parents=True)
    angle_x = 0.69
    focal = 0.5 * size / math.tan(0.5 * angle_x)
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    entries = []
    for i in range(frames):
        pose = orbit_pose(360.0 * i / frames)
        radius = 1.0 * focal / 4.0  # a unit ball at distance 4
        inside = (xx - size / 2) ** 2 + (yy - size / 2) ** 2 < radius**2
        rgba = np.zeros((size, size, 4), np.uint8)
        rgba[inside] = (200, 40 + 10 * i, 60, 255)
        Image.fromarray(rgba, "RGBA").save(folder / "train" / f"r_{i}.png")
        entries.append({"file_path": f"./train/r_{i}", "transform_matrix": pose.tolist()})
    (folder / "transforms_train.json").write_text(json.dumps({"camera_angle_x": angle_x, "frames": entries}))
    return folder
