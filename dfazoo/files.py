"""Atomic file writes: a crash, or another process writing the same file, never leaves a torn file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A uniquely named temp path beside ``path`` to write; on success it is fsynced and
    ``os.replace``-d onto ``path``. For writers that take a file name (e.g. safetensors).

    The temp name is unique per call (``mkstemp``), so concurrent writers of the same target
    (e.g. two sweeps decoding the same dataset) each replace it whole and never collide. On an
    error the temp file is removed and ``path`` keeps its previous content.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make the result private to its owner
    try:
        yield tmp
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """An open binary file written to a temp path and atomically renamed (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        yield f
