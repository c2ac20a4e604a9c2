"""NeRF-Synthetic (Blender) scenes: RGBA images, camera-to-world poses and the focal length.

Layout under the data root, as the official archive unpacks:
``nerf/nerf_synthetic/<scene>/transforms_{train,val,test}.json`` and the PNGs they name
(``./train/r_0`` -> ``train/r_0.png``). When a scene ships only its train split (the copy
here has only ``lego`` train), val and test are held out from the train frames
(:func:`load_blender`'s ``holdout_every``) and :attr:`BlenderScene.notes` says so.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from dfazoo.data.download import download
from dfazoo.data.root import DatasetNotFoundError, data_root, reading

SOURCE = "http://cseweb.ucsd.edu/~viscomp/projects/LF/papers/ECCV20/nerf/nerf_example_data.zip"
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class BlenderView:
    """``images`` (N, H, W, 4) float32 in [0, 1] (RGBA), ``poses`` (N, 4, 4) camera-to-world."""

    images: torch.Tensor
    poses: torch.Tensor
    files: tuple[str, ...]


@dataclass(frozen=True)
class BlenderScene:
    """One scene's splits at ``height`` x ``width`` pixels with ``focal`` in pixels."""

    name: str
    splits: dict[str, BlenderView]
    height: int
    width: int
    focal: float
    notes: str


def _read_frames(
    folder: Path, frames: list[dict], size: int | None, desc: str
) -> tuple[torch.Tensor, torch.Tensor, tuple[str, ...]]:
    images, poses, files = [], [], []
    for frame in tqdm(frames, desc=desc, leave=False, disable=None):
        path = folder / (frame["file_path"].removeprefix("./") + ".png")
        if not path.exists():
            raise DatasetNotFoundError(
                f"NeRF frame {path.name} listed in {folder} is missing: expected {path}"
            )
        with reading(path), Image.open(path) as img:
            img = img.convert("RGBA")
            if size is not None and img.size != (size, size):
                img = img.resize((size, size), Image.Resampling.BOX)  # area average (alpha-premultiplied)
            images.append(np.asarray(img, dtype=np.float32) / 255.0)
        poses.append(np.asarray(frame["transform_matrix"], dtype=np.float32))
        files.append(str(path.relative_to(folder)))
    return torch.from_numpy(np.stack(images)), torch.from_numpy(np.stack(poses)), tuple(files)


def _read_meta(path: Path) -> dict | None:
    """A ``transforms_*.json`` (None when absent), checked for the fields the loader uses."""
    if not path.exists():
        return None
    with reading(path):
        meta = json.loads(path.read_text())
        float(meta["camera_angle_x"])
        for frame in meta["frames"]:
            if not isinstance(frame["file_path"], str) or np.shape(frame["transform_matrix"]) != (4, 4):
                raise ValueError(f"frame {frame!r:.60} needs a file_path and a 4x4 transform_matrix")
    return meta


def load_blender(
    root: str | os.PathLike[str] | None = None,
    scene: str = "lego",
    size: int | None = 100,
    holdout_every: int = 10,
) -> BlenderScene:
    """Load a NeRF-Synthetic ``scene``, each image resized (area averaging) to ``size`` x ``size``
    (None keeps the original 800 x 800); the focal length is scaled with it.

    When ``transforms_val.json``/``transforms_test.json`` are absent, train frame ``i`` goes to
    test if ``i % holdout_every == 0``, to val if ``i % holdout_every == holdout_every // 2``,
    otherwise it stays in train (100 frames, 10 -> 80/10/10).
    """
    base = data_root(root) / "nerf"
    folder = base / "nerf_synthetic" / scene
    download(
        SOURCE,
        base,
        dataset=f"NeRF-Synthetic {scene!r} (the example archive holds only lego)",
        expected_files=[f"nerf_synthetic/{scene}/transforms_train.json"],
    )
    metas = {s: meta for s in SPLITS if (meta := _read_meta(folder / f"transforms_{s}.json")) is not None}
    frame_lists = {s: meta["frames"] for s, meta in metas.items()}
    held_out = [s for s in ("val", "test") if s not in frame_lists]
    notes = "official train/val/test splits"
    if held_out:
        train = metas["train"]["frames"]
        picks = {"test": 0, "val": holdout_every // 2}
        frame_lists["train"] = [
            f for i, f in enumerate(train) if i % holdout_every not in [picks[s] for s in held_out]
        ]
        for split in held_out:
            frame_lists[split] = [f for i, f in enumerate(train) if i % holdout_every == picks[split]]
        notes = (
            f"official {', '.join(held_out)} split(s) absent: held out from the {len(train)} train frames "
            f"(test: i % {holdout_every} == 0, val: i % {holdout_every} == {holdout_every // 2})"
        )
    splits = {s: BlenderView(*_read_frames(folder, frame_lists[s], size, f"{scene} {s}")) for s in SPLITS}
    height, width = splits["train"].images.shape[1:3]
    focal = 0.5 * width / math.tan(0.5 * float(metas["train"]["camera_angle_x"]))
    return BlenderScene(scene, splits, int(height), int(width), focal, notes)
