"""A small generated MovieLens-100K folder (u.data, u.user, u.item) in the GroupLens formats."""

from __future__ import annotations

import random
from pathlib import Path

GENRE_FLAGS = 19


def write_ml100k(root: Path, users: int = 12, items: int = 15, ratings: int = 300) -> Path:
    """``root/movielens/ml-100k`` with ``ratings`` random ratings; item 3 has no release date."""
    rng = random.Random(0)
    folder = root / "movielens" / "ml-100k"
    folder.mkdir(parents=True)
    data = [
        f"{rng.randint(1, users)}\t{rng.randint(1, items)}\t{rng.randint(1, 5)}\t{880000000 + i}"
        for i in range(ratings)
    ]
    (folder / "u.data").write_text("\n".join(data) + "\n")
    occupations = ("student", "writer", "technician", "other")
    user_lines = [
        f"{u}|{rng.randint(15, 70)}|{rng.choice('MF')}|{rng.choice(occupations)}|{rng.randint(10000, 99999)}"
        for u in range(1, users + 1)
    ]
    (folder / "u.user").write_text("\n".join(user_lines) + "\n")
    item_lines = []
    for i in range(1, items + 1):
        flags = ["0"] * GENRE_FLAGS
        flags[rng.randint(1, GENRE_FLAGS - 1)] = "1"
        date = "" if i == 3 else f"01-Jan-{rng.randint(1950, 1998)}"
        item_lines.append("|".join([str(i), f"Movie {i} (1995)", date, "", "http://x", *flags]))
    (folder / "u.item").write_text("\n".join(item_lines) + "\n", encoding="latin-1")
    return folder
