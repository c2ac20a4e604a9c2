"""Where datasets live: ``--data-root``, else ``$DFAZOO_DATA``, else the user cache dir."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is absent and cannot be downloaded; the message names the expected files."""


def data_root(root: str | os.PathLike[str] | None = None) -> Path:
    if root is not None:
        return Path(root).expanduser()
    if os.environ.get("DFAZOO_DATA"):
        return Path(os.environ["DFAZOO_DATA"]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "dfazoo" / "data"


def cache_dir() -> Path:
    """Writable folder for processed copies (never inside the read-only data root)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    path = Path(cache) / "dfazoo" / "processed"
    path.mkdir(parents=True, exist_ok=True)
    return path


def is_offline() -> bool:
    flags = ("HF_HUB_OFFLINE", "DFAZOO_OFFLINE")
    return any(os.environ.get(v, "").lower() not in ("", "0", "false") for v in flags)


def require_files(folder: Path, names: Sequence[str], dataset: str, source: str) -> None:
    """Raise :class:`DatasetNotFoundError` naming ``folder`` and the missing ``names``."""
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise DatasetNotFoundError(
            f"{dataset} not found: expected {', '.join(missing)} in {folder}. "
            f"Pass --data-root (or set DFAZOO_DATA) to a folder holding them, or run online to "
            f"download them from {source}."
        )
