"""Where datasets live: ``--data-root``, else ``$DFAZOO_DATA``, else the user cache dir."""

from __future__ import annotations

import os
import pickle
import struct
import tarfile
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REDOWNLOAD = "delete it and download it again"


class DatasetError(OSError):
    """A dataset cannot be used; the one-line message names the file and the fix."""


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    """A dataset is absent and cannot be downloaded; the message names the expected files."""


class CorruptDatasetError(DatasetError):
    """A dataset file exists but cannot be read (truncated, garbled or malformed)."""


# What parsing a truncated or garbled file raises (gzip, zlib, tar, pickle, PIL, json, numpy, text).
READ_ERRORS: tuple[type[BaseException], ...] = (
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    OverflowError,
    SyntaxError,
    pickle.UnpicklingError,
    struct.error,
    tarfile.TarError,
    zlib.error,
)


def corrupt_file(path: str | os.PathLike[str], reason: str, fix: str = REDOWNLOAD) -> CorruptDatasetError:
    """The error for an unreadable ``path``: one line with the file, the ``reason`` and the ``fix``."""
    reason = " ".join(reason.split())
    if len(reason) > 160:
        reason = reason[:157] + "..."
    return CorruptDatasetError(f"{path} is corrupt or truncated ({reason}); {fix}.")


@contextmanager
def reading(path: str | os.PathLike[str], fix: str = REDOWNLOAD) -> Iterator[None]:
    """Turn a parse error raised while reading ``path`` into a :class:`CorruptDatasetError`.

    Dataset errors and a missing or unreadable file (not found, permission, directory) pass through.
    """
    try:
        yield
    except (DatasetError, FileNotFoundError, PermissionError, IsADirectoryError):
        raise
    except READ_ERRORS as err:
        raise corrupt_file(path, f"{type(err).__name__}: {err}", fix) from err


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
