"""Criteo Display Advertising (Kaggle) in torchfm's format, read by torchfm's own loader.

``criteo/train.txt`` holds one example per line: label, 13 integer and 26 categorical
(hashed hex) fields, tab-separated, empty for missing. :class:`torchfm.dataset.criteo.CriteoDataset`
log2-discretises the integers, maps features seen fewer than ``min_threshold`` times to one
"rare" index per field, and stores the result in an LMDB cache (so ``lmdb`` must be installed).
That cache is built once per (file, size, mtime, threshold) under
:func:`dfazoo.data.root.cache_dir` (:mod:`dfazoo.data.cache`), into a temp folder renamed when
complete, so an interrupted build is never mistaken for a finished one, and a replaced
``train.txt`` is never served from a stale cache.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset, Subset, random_split

from dfazoo.data.cache import building_folder, keyed_cache, prune_stale
from dfazoo.data.download import download
from dfazoo.data.root import data_root, reading

SOURCE = "https://go.criteo.net/criteo-research-kaggle-display-advertising-challenge-dataset.tar.gz"


@dataclass(frozen=True)
class CriteoData:
    """The full dataset (items are ``(fields int64[39], label)``), its ``field_dims`` and
    seeded ``splits`` {"train"|"val"|"test": Subset}."""

    dataset: Dataset
    field_dims: list[int]
    splits: dict[str, Subset]


def _criteo_dataset_class() -> type[Dataset]:
    try:
        from torchfm.dataset.criteo import CriteoDataset
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            f"torchfm's Criteo loader needs {err.name!r}: run `pip install lmdb torchfm`"
        ) from err
    return CriteoDataset


@functools.cache
def _open_cache(cache: str) -> Dataset:
    """One dataset per cache folder: lmdb refuses to open the same environment twice in a process."""
    return _criteo_dataset_class()(cache_path=cache)


def load_criteo(
    root: str | os.PathLike[str] | None = None,
    min_threshold: int = 10,
    fractions: tuple[float, float] = (0.8, 0.1),
    seed: int = 0,
) -> CriteoData:
    """Criteo ``train.txt`` split at random (from ``seed``) into train/val/test by ``fractions``
    (train, val; test is the rest), the 8:1:1 protocol of torchfm's examples."""
    dataset_cls = _criteo_dataset_class()
    folder = download(
        SOURCE, data_root(root) / "criteo", dataset="Criteo (Kaggle)", expected_files=["train.txt"]
    )
    train_file = folder / "train.txt"
    cache = keyed_cache("criteo", [train_file], min_threshold)
    if not cache.exists():
        with building_folder(cache) as building, reading(train_file):
            dataset_cls(
                str(train_file), str(building), rebuild_cache=True, min_threshold=min_threshold
            ).env.close()
        prune_stale(cache)
    dataset = _open_cache(str(cache))
    n_train = int(len(dataset) * fractions[0])
    n_val = int(len(dataset) * fractions[1])
    parts = random_split(
        dataset,
        [n_train, n_val, len(dataset) - n_train - n_val],
        generator=torch.Generator().manual_seed(seed),
    )
    return CriteoData(
        dataset, [int(d) for d in dataset.field_dims], dict(zip(("train", "val", "test"), parts))
    )
