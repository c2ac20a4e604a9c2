"""Dataset loaders and the data root.

The loaders import on first use (PEP 562), so ``dfazoo.data.root`` (what the command line
needs) stays light: ``from dfazoo.data import load_planetoid`` imports torch_geometric only then.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dfazoo.data.root import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    cache_dir,
    data_root,
    is_offline,
    require_files,
)

_LOADERS: dict[str, str] = {
    "ImageData": "dfazoo.data.vision",
    "load_image_dataset": "dfazoo.data.vision",
    "load_digits": "dfazoo.data.vision",
    "load_planetoid": "dfazoo.data.planetoid",
    "Ratings": "dfazoo.data.movielens",
    "load_movielens": "dfazoo.data.movielens",
    "CriteoData": "dfazoo.data.criteo",
    "load_criteo": "dfazoo.data.criteo",
    "BlenderScene": "dfazoo.data.nerf",
    "load_blender": "dfazoo.data.nerf",
    "TextSplits": "dfazoo.data.text",
    "load_shakespeare": "dfazoo.data.text",
    "load_wikitext": "dfazoo.data.text",
}

__all__ = [
    "BlenderScene",
    "CorruptDatasetError",
    "CriteoData",
    "DatasetError",
    "DatasetNotFoundError",
    "ImageData",
    "Ratings",
    "TextSplits",
    "cache_dir",
    "data_root",
    "is_offline",
    "load_blender",
    "load_criteo",
    "load_digits",
    "load_image_dataset",
    "load_movielens",
    "load_planetoid",
    "load_shakespeare",
    "load_wikitext",
    "require_files",
]

if TYPE_CHECKING:
    from dfazoo.data.criteo import CriteoData, load_criteo
    from dfazoo.data.movielens import Ratings, load_movielens
    from dfazoo.data.nerf import BlenderScene, load_blender
    from dfazoo.data.planetoid import load_planetoid
    from dfazoo.data.text import TextSplits, load_shakespeare, load_wikitext
    from dfazoo.data.vision import ImageData, load_digits, load_image_dataset


def __getattr__(name: str) -> Any:
    if name in _LOADERS:
        value = getattr(importlib.import_module(_LOADERS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'dfazoo.data' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LOADERS})
