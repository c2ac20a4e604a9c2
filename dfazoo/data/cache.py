"""Processed copies keyed by their source files, so a changed or replaced source is never served stale.

A cache lives at ``cache_dir()/<kind>/<where>-<stamp><suffix>``: ``where`` hashes the sources'
resolved paths and the build parameters, ``stamp`` their sizes, mtimes (ns) and inodes. Replacing
or rewriting a source changes the stamp, so the next load builds a new cache (atomically) and removes the old.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from dfazoo.data.root import cache_dir


def _digest(parts: Sequence[object]) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()[:12]


def keyed_cache(kind: str, sources: Sequence[Path], *params: object, suffix: str = "") -> Path:
    """Where the cache of ``sources`` built with ``params`` lives; it changes with any source."""
    where = _digest([*(Path(s).resolve() for s in sources), *params])
    stats = [Path(s).stat() for s in sources]
    stamp = _digest([f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}" for st in stats])
    return cache_dir() / kind / f"{where}-{stamp}{suffix}"


def prune_stale(cache: Path) -> None:
    """Remove the caches built from earlier versions of ``cache``'s sources."""
    where = cache.name.split("-", 1)[0]
    for old in cache.parent.glob(f"{where}-*"):
        if old != cache:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)


@contextmanager
def building_folder(cache: Path) -> Iterator[Path]:
    """A temp folder beside ``cache`` to fill; renamed onto ``cache`` on success, removed on error.

    If another process finished the same cache first, its copy is kept and this one discarded.
    """
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache.parent, prefix=f".{cache.name}."))
    try:
        yield tmp
        try:
            os.replace(tmp, cache)
        except OSError:
            if not cache.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
