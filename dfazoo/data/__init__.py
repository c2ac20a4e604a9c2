"""Dataset loaders and the data root.

The loaders import on first use (PEP 562), so ``dfazoo.data.root`` (what the command line
needs) stays light: ``from dfazoo.data import load_planetoid`` imports torch_geometric only then.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dfazoo.data.root import (
    CorruptDatasetError,
    DatasetError,
    DatasetNotFoundError,
    cache_dir,
    data_root,
    is_offline,
    require_files,
)
from dfazoo.lazy import lazy_exports

_LOADERS: dict[str, str] = {
    "ImageData": "dfazoo.data.vision",
    "load_image_dataset": "dfazoo.data.vision",
    "load_digits": "dfazoo.data.vision",
    "load_cifar10": "dfazoo.data.vision",
    "load_cifar10_jpeg": "dfazoo.data.vision",
    "load_cifar10_pickles": "dfazoo.data.vision",
    "load_idx_dataset": "dfazoo.data.vision",
    "load_planetoid": "dfazoo.data.planetoid",
    "Ratings": "dfazoo.data.movielens",
    "load_movielens": "dfazoo.data.movielens",
    "CTRTable": "dfazoo.data.movielens_ctr",
    "load_movielens_ctr": "dfazoo.data.movielens_ctr",
    "SyntheticCTRConfig": "dfazoo.data.synthetic_ctr",
    "make_synthetic_ctr": "dfazoo.data.synthetic_ctr",
    "CriteoData": "dfazoo.data.criteo",
    "load_criteo": "dfazoo.data.criteo",
    "BlenderScene": "dfazoo.data.nerf",
    "load_blender": "dfazoo.data.nerf",
    "TextSplits": "dfazoo.data.text",
    "load_shakespeare": "dfazoo.data.text",
    "load_text_file": "dfazoo.data.text",
    "load_wikitext": "dfazoo.data.text",
}

__all__ = [
    "BlenderScene",
    "CTRTable",
    "CorruptDatasetError",
    "CriteoData",
    "DatasetError",
    "DatasetNotFoundError",
    "ImageData",
    "Ratings",
    "SyntheticCTRConfig",
    "TextSplits",
    "cache_dir",
    "data_root",
    "is_offline",
    "load_blender",
    "load_cifar10",
    "load_cifar10_jpeg",
    "load_cifar10_pickles",
    "load_criteo",
    "load_digits",
    "load_idx_dataset",
    "load_image_dataset",
    "load_movielens",
    "load_movielens_ctr",
    "load_planetoid",
    "load_shakespeare",
    "load_text_file",
    "load_wikitext",
    "make_synthetic_ctr",
    "require_files",
]

if TYPE_CHECKING:
    from dfazoo.data.criteo import CriteoData, load_criteo
    from dfazoo.data.movielens import Ratings, load_movielens
    from dfazoo.data.movielens_ctr import CTRTable, load_movielens_ctr
    from dfazoo.data.nerf import BlenderScene, load_blender
    from dfazoo.data.planetoid import load_planetoid
    from dfazoo.data.synthetic_ctr import SyntheticCTRConfig, make_synthetic_ctr
    from dfazoo.data.text import TextSplits, load_shakespeare, load_text_file, load_wikitext
    from dfazoo.data.vision import (
        ImageData,
        load_cifar10,
        load_cifar10_jpeg,
        load_cifar10_pickles,
        load_digits,
        load_idx_dataset,
        load_image_dataset,
    )

__getattr__, __dir__ = lazy_exports(__name__, _LOADERS)
