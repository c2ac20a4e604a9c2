"""The one downloader every loader shares: fast failure offline, clear errors otherwise."""

from __future__ import annotations

import os
import shutil
import tarfile
import urllib.request
import zipfile
from collections.abc import Sequence
from pathlib import Path

from dfazoo.data.root import DatasetNotFoundError, is_offline
from dfazoo.files import atomic_file

ARCHIVE_SUFFIXES: tuple[str, ...] = (".zip", ".tar", ".tar.gz", ".tgz")


def missing_files(dest: Path, expected_files: Sequence[str]) -> list[str]:
    return [name for name in expected_files if not (dest / name).exists()]


def _not_found(dataset: str, dest: Path, missing: Sequence[str], reason: str, urls: Sequence[str]) -> str:
    return (
        f"{dataset} not found: expected {', '.join(missing)} in {dest}. {reason} "
        f"Place the files there (source: {', '.join(urls)}), or pass --data-root / set DFAZOO_DATA "
        f"to a folder that holds them."
    )


def _fetch(url: str, target: Path, timeout: float) -> None:
    """Stream ``url`` into ``target`` through a temp file, so a broken download leaves nothing."""
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http(s) urls only)
        with atomic_file(target) as out:
            shutil.copyfileobj(response, out, length=1 << 20)


def _extract(archive: Path, dest: Path) -> None:
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(dest)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(dest, filter="data")
    archive.unlink()


def download(
    url: str | Sequence[str],
    dest: str | os.PathLike[str],
    *,
    dataset: str,
    expected_files: Sequence[str],
    filename: str | None = None,
    timeout: float = 20.0,
) -> Path:
    """Make ``expected_files`` (paths relative to ``dest``) exist and return ``dest``.

    Files already present are never fetched again. Otherwise each of ``url`` (a list means
    mirrors, tried in order) is downloaded into ``dest`` (as ``filename``, default the url's last
    part); zip and tar archives are extracted there and deleted. Offline (``HF_HUB_OFFLINE`` or
    ``DFAZOO_OFFLINE`` set) nothing is attempted. Raises :class:`DatasetNotFoundError` naming
    ``dest`` and the missing files whenever they still do not exist.
    """
    dest = Path(dest).expanduser()
    urls = [url] if isinstance(url, str) else list(url)
    missing = missing_files(dest, expected_files)
    if not missing:
        return dest
    if is_offline():
        raise DatasetNotFoundError(
            _not_found(dataset, dest, missing, "Offline mode is on, so nothing was downloaded.", urls)
        )
    errors = []
    for source in urls:
        target = dest / (filename or source.rstrip("/").rsplit("/", 1)[-1].split("?")[0])
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            _fetch(source, target, timeout)
            if target.name.endswith(ARCHIVE_SUFFIXES):
                _extract(target, dest)
        except (OSError, zipfile.BadZipFile, tarfile.TarError) as err:
            errors.append(f"{source}: {err}")
            continue
        missing = missing_files(dest, expected_files)
        if not missing:
            return dest
        errors.append(f"{source}: downloaded, but it did not provide {', '.join(missing)}")
    reason = f"Download failed ({'; '.join(errors)})."
    raise DatasetNotFoundError(_not_found(dataset, dest, missing, reason, urls))
