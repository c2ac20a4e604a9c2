"""Atomic checkpoints and the RNG states needed to resume a run bit-exactly."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dfazoo.files import atomic_file


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` through :func:`dfazoo.files.atomic_file`.

    A crash at any point leaves either the previous file or the new one, never a torn file.
    """
    with atomic_file(path) as f:
        torch.save(obj, f)
    return Path(path)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint written by :func:`atomic_save` (tensors, numbers and strings only)."""
    return torch.load(path, map_location="cpu", weights_only=True)


def rng_states(generator: torch.Generator) -> dict[str, Any]:
    """Every RNG a run draws from: torch (CPU and CUDA), Python, NumPy and the data shuffle."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    states: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, cached),
        "data": generator.get_state(),
    }
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict[str, Any], generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    version, state, gauss = states["python"]
    random.setstate((version, tuple(state), gauss))
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    generator.set_state(states["data"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])
