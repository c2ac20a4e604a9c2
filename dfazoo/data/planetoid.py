"""Planetoid citation graphs (Cora, CiteSeer, PubMed) read by PyG from a dfazoo data root.

PyG's ``Planetoid`` writes ``processed/`` beside ``raw/``, and data roots are read-only, so the
raw files are checked, copied and processed once into a cache folder keyed by their sizes and
mtimes (:mod:`dfazoo.data.cache`): replacing a raw file rebuilds it, and a corrupt one is named.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import warnings
from pathlib import Path

import torch
from sklearn.model_selection import StratifiedKFold
from torch_geometric.data import Data
from torch_geometric.datasets import Planetoid
from torch_geometric.io.planetoid import read_file
from torch_geometric.transforms import NormalizeFeatures

from dfazoo.data.cache import building_folder, keyed_cache, prune_stale
from dfazoo.data.root import DatasetNotFoundError, cache_dir, data_root, is_offline, reading

PLANETOID_NAMES: dict[str, str] = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
RAW_SUFFIXES: tuple[str, ...] = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")
STRATIFIED_SPLIT = "stratified_20_20_60"
SOURCE = "https://github.com/kimiyoung/planetoid (via torch_geometric.datasets.Planetoid)"


def planetoid_name(dataset: str) -> str:
    """PyG's spelling of a dataset name given in any case (``cora`` -> ``Cora``)."""
    key = dataset.lower()
    if key not in PLANETOID_NAMES:
        raise ValueError(
            f"dataset={dataset!r} is not a Planetoid graph; choose one of {sorted(PLANETOID_NAMES)}"
        )
    return PLANETOID_NAMES[key]


def raw_file_names(name: str) -> list[str]:
    return [f"ind.{name.lower()}.{suffix}" for suffix in RAW_SUFFIXES]


def find_raw_dir(root: str | os.PathLike[str] | None, name: str) -> Path | None:
    """``<root>/planetoid/<Name>/raw`` (or ``<root>/<Name>/raw``) when it holds every raw file."""
    base = data_root(root)
    for folder in (base / "planetoid" / name / "raw", base / name / "raw"):
        if all((folder / f).exists() for f in raw_file_names(name)):
            return folder
    return None


def load_planetoid(
    dataset: str,
    root: str | os.PathLike[str] | None = None,
    split: str = "public",
    num_train_per_class: int = 20,
    split_seed: int = 0,
) -> Data:
    """The graph with row-normalised features and train/val/test masks.

    ``split="public"`` is the Planetoid split (20 labelled nodes per class, 500 val, 1000 test);
    ``split="random"`` is PyG's random split (train, val and test redrawn from ``split_seed``);
    ``split="fresh_train"`` keeps the public val/test nodes and draws ``num_train_per_class``
    new train nodes per class among the nodes outside the public train/val/test sets.
    ``split="stratified_20_20_60"`` partitions every node into five class-stratified folds
    (shuffled with ``split_seed``): one for training, one for validation, three for test. That is
    the split of PyG's DNAConv example (there with seed 55), the likely source of the scaling
    paper's DNAConv numbers.
    """
    name = planetoid_name(dataset)
    raw = find_raw_dir(root, name)
    if raw is None and is_offline():
        expected = data_root(root) / "planetoid" / name / "raw"
        raise DatasetNotFoundError(
            f"{name} not found: expected {', '.join(raw_file_names(name))} in {expected}. "
            f"Pass --data-root (or set DFAZOO_DATA) to a folder holding planetoid/{name}/raw, or "
            f"run online to download it from {SOURCE}."
        )
    cache = cache_dir() / "planetoid" / hashlib.sha1(b"download").hexdigest()[:12]
    if raw is not None:
        cache = processed_cache(raw, name)
    with torch.random.fork_rng():
        torch.manual_seed(split_seed)
        ds = Planetoid(
            str(cache),
            name,
            split="public" if split in ("fresh_train", STRATIFIED_SPLIT) else split,
            num_train_per_class=num_train_per_class,
            transform=NormalizeFeatures(),
        )
        data = ds[0]
        if split == "fresh_train":
            data.train_mask = fresh_train_mask(data, num_train_per_class)
        elif split == STRATIFIED_SPLIT:
            data.train_mask, data.val_mask, data.test_mask = stratified_masks(data.y, split_seed)
        return data


def processed_cache(raw: Path, name: str) -> Path:
    """A cache folder holding ``<name>/raw`` (a copy) and ``<name>/processed``, rebuilt when any raw
    file changes; each raw file is read first, so a corrupt one is named."""
    files = [raw / f for f in raw_file_names(name)]
    cache = keyed_cache("planetoid", files)
    if cache.exists():
        return cache
    for file in files:
        with reading(file), warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # old pickles name scipy.sparse.csr
            read_file(str(raw), name, file.name.removeprefix(f"ind.{name.lower()}."))
    with building_folder(cache) as tmp:
        (tmp / name / "raw").mkdir(parents=True)
        for file in files:
            shutil.copyfile(file, tmp / name / "raw" / file.name)
        with reading(raw):  # e.g. a test.index pointing past the feature rows
            Planetoid(str(tmp), name)
    prune_stale(cache)
    return cache


def stratified_masks(y: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Train / val / test masks from five class-stratified folds: fold 0, fold 1, folds 2-4."""
    folds = StratifiedKFold(5, shuffle=True, random_state=seed).split(y.numpy(), y.numpy())
    masks = [torch.zeros(y.numel(), dtype=torch.bool) for _ in range(3)]
    for k, (_, index) in enumerate(folds):
        masks[min(k, 2)][torch.from_numpy(index)] = True
    return masks[0], masks[1], masks[2]


def fresh_train_mask(data: Data, per_class: int) -> torch.Tensor:
    """``per_class`` random train nodes per class, none of them in the public train/val/test."""
    unused = ~(data.train_mask | data.val_mask | data.test_mask)
    mask = torch.zeros_like(unused)
    for c in range(int(data.y.max()) + 1):
        pool = (unused & (data.y == c)).nonzero().view(-1)
        if pool.numel() < per_class:
            raise ValueError(f"class {c} has only {pool.numel()} unused nodes, fewer than {per_class}")
        mask[pool[torch.randperm(pool.numel())[:per_class]]] = True
    return mask
