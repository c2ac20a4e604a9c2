"""MovieLens 100K and 1M ratings as tensors with a seeded random train/val/test split.

Layout under the data root: ``movielens/ml-100k/u.data`` (tab-separated) and
``movielens/ml-1m/ratings.dat`` (``::``-separated), both ``user item rating timestamp`` with
1-based ids, as the GroupLens archives unpack.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dfazoo.data.download import download
from dfazoo.data.root import corrupt_file, data_root

SOURCE = "https://files.grouplens.org/datasets/movielens/"
VARIANTS: dict[str, tuple[str, str]] = {"100k": ("ml-100k/u.data", "\t"), "1m": ("ml-1m/ratings.dat", "::")}


@dataclass(frozen=True)
class Ratings:
    """All ratings (0-based ``users``/``items`` int64, ``ratings`` float32, ``timestamps`` int64)
    and ``splits``: {"train"|"val"|"test": indices into them}."""

    name: str
    users: torch.Tensor
    items: torch.Tensor
    ratings: torch.Tensor
    timestamps: torch.Tensor
    num_users: int
    num_items: int
    splits: dict[str, torch.Tensor]

    def split(self, name: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(users, items, ratings) of one split."""
        index = self.splits[name]
        return self.users[index], self.items[index], self.ratings[index]


def read_ratings(path: Path, sep: str) -> np.ndarray:
    """``(N, 4)`` int64 rows of ``user item rating timestamp``; a malformed line raises
    :class:`~dfazoo.data.root.CorruptDatasetError` naming ``path`` and the line number."""
    text = path.read_text(encoding="latin-1")
    try:
        table = np.loadtxt(io.StringIO(text.replace(sep, "\t")), delimiter="\t", dtype=np.int64, ndmin=2)
    except ValueError as err:
        for number, line in enumerate(text.splitlines(), start=1):
            fields = line.split(sep)
            if line.strip() and (len(fields) != 4 or not all(f.strip().isdigit() for f in fields)):
                reason = f"line {number} is {line[:60]!r}, not 4 integers separated by {sep!r}"
                raise corrupt_file(path, reason) from err
        raise corrupt_file(path, str(err)) from err
    if len(table) == 0 or table.shape[1] != 4:
        raise corrupt_file(path, f"expected rows of 4 integers, found shape {table.shape}")
    return table


def load_movielens(
    root: str | os.PathLike[str] | None = None,
    variant: str = "100k",
    fractions: tuple[float, float] = (0.8, 0.1),
    seed: int = 0,
) -> Ratings:
    """MovieLens ``variant`` ("100k" or "1m"); a permutation drawn from ``seed`` puts the first
    ``fractions[0]`` of the ratings in train, the next ``fractions[1]`` in val, the rest in test.
    """
    if variant not in VARIANTS:
        raise ValueError(f"movielens variant={variant!r}; choose one of {sorted(VARIANTS)}")
    path, sep = VARIANTS[variant]
    folder = download(
        f"{SOURCE}ml-{variant}.zip",
        data_root(root) / "movielens",
        dataset=f"MovieLens {variant}",
        expected_files=[path],
    )
    table = torch.from_numpy(read_ratings(folder / path, sep))
    users, items = table[:, 0] - 1, table[:, 1] - 1
    order = torch.randperm(len(table), generator=torch.Generator().manual_seed(seed))
    train_end = int(len(table) * fractions[0])
    val_end = train_end + int(len(table) * fractions[1])
    return Ratings(
        name=f"movielens-{variant}",
        users=users,
        items=items,
        ratings=table[:, 2].float(),
        timestamps=table[:, 3],
        num_users=int(users.max()) + 1,
        num_items=int(items.max()) + 1,
        splits={"train": order[:train_end], "val": order[train_end:val_end], "test": order[val_end:]},
    )
