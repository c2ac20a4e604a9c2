"""MovieLens 100K as a click-through-rate table: one row of raw side features per rating.

Reads ``u.data`` through :func:`dfazoo.data.movielens.load_movielens` (its seeded split) and
joins ``u.user`` (``id|age|gender|occupation|zip``) and ``u.item`` (``id|title|release
date|video date|url|19 genre flags``). The label is 1 when the rating is at least 4. The genre
column holds the *first* genre flagged in ``u.item`` (in ``u.genre`` order), not a multi-hot
set, so each row has one value per field; the year is that of the release date (None when
the date is missing).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from dfazoo.data.movielens import load_movielens
from dfazoo.data.root import corrupt_file, data_root

GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)  # fmt: skip
FIELDS: tuple[str, ...] = ("user_id", "item_id", "age", "gender", "occupation", "zip", "genre", "year")


@dataclass(frozen=True)
class CTRTable:
    """Raw ``columns`` {field: list of values}, ``labels`` float32 and ``splits`` (indices)."""

    columns: dict[str, list[Any]]
    labels: torch.Tensor
    splits: dict[str, torch.Tensor]


def _rows(path: Path, min_fields: int) -> list[list[str]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="latin-1").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("|")
        if len(fields) < min_fields or not fields[0].isdigit():
            raise corrupt_file(path, f"line {number} is {line[:60]!r}, not {min_fields} '|'-separated fields")
        rows.append(fields)
    return rows


def read_users(path: Path) -> dict[int, dict[str, Any]]:
    """{user id: {"age", "gender", "occupation", "zip"}} from ``u.user``."""
    users = {}
    for number, f in enumerate(_rows(path, 5), start=1):
        if not f[1].isdigit():
            raise corrupt_file(path, f"line {number}: age {f[1]!r} is not an integer")
        users[int(f[0])] = {"age": int(f[1]), "gender": f[2], "occupation": f[3], "zip": f[4]}
    return users


def read_items(path: Path) -> dict[int, dict[str, Any]]:
    """{item id: {"genre", "year"}} from ``u.item`` (first flagged genre; year or None)."""
    items = {}
    for f in _rows(path, 5 + len(GENRES)):
        flags = f[5 : 5 + len(GENRES)]
        genre = next((g for g, flag in zip(GENRES, flags) if flag == "1"), None)
        year = f[2][-4:]
        items[int(f[0])] = {"genre": genre, "year": int(year) if year.isdigit() else None}
    return items


def load_movielens_ctr(
    root: str | os.PathLike[str] | None = None, fractions: tuple[float, float] = (0.8, 0.1), seed: int = 0
) -> CTRTable:
    """ML-100K ratings as CTR rows with raw side features (see the module docstring)."""
    ratings = load_movielens(root, "100k", fractions, seed)
    folder = data_root(root) / "movielens" / "ml-100k"
    users, items = read_users(folder / "u.user"), read_items(folder / "u.item")
    user_ids = (ratings.users + 1).tolist()
    item_ids = (ratings.items + 1).tolist()
    missing = {"user": set(user_ids) - set(users), "item": set(item_ids) - set(items)}
    for kind, ids in missing.items():
        if ids:
            raise corrupt_file(folder / f"u.{kind}", f"{kind} id {min(ids)} is rated in u.data but absent")
    columns: dict[str, list[Any]] = {"user_id": user_ids, "item_id": item_ids}
    for name in ("age", "gender", "occupation", "zip"):
        columns[name] = [users[u][name] for u in user_ids]
    for name in ("genre", "year"):
        columns[name] = [items[i][name] for i in item_ids]
    return CTRTable(columns, (ratings.ratings >= 4).float(), ratings.splits)
