"""Where the project lives: its URL, its source repository and the Hub organisation of the zoo,
importable from every layer.

The URL is the ``Homepage`` of ``[project.urls]`` in ``pyproject.toml``, its one place;
``$DFAZOO_PROJECT_URL`` overrides it. The source repository (where cards link the files they
cite, ``<repository>/blob/main/<path>``) is ``Repository`` there, overridden by
``$DFAZOO_REPOSITORY_URL``. The Hub organisation is ``$DFAZOO_HUB_ORG``, else ``dfazoo``.
"""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the installed metadata only
    tomllib = None

DEFAULT_HUB_ORG = "dfazoo"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _project_urls(label: str, env: str) -> str:
    """``$<env>``, else the ``label`` entry of ``[project.urls]``: read from the source checkout's
    ``pyproject.toml`` when there is one (an edit needs no reinstall; Python >= 3.11), else from
    the installed package's metadata."""
    if url := os.environ.get(env):
        return url
    if tomllib is not None and PYPROJECT.exists():
        urls = tomllib.loads(PYPROJECT.read_text())["project"]["urls"]
        if label in urls:
            return urls[label]
    for entry in importlib.metadata.metadata("dfazoo").get_all("Project-URL") or []:
        name, _, url = entry.partition(",")
        if name.strip() == label:
            return url.strip()
    raise LookupError(f"dfazoo's metadata has no {label} URL; set ${env}")


def project_url() -> str:
    """``$DFAZOO_PROJECT_URL``, else the ``Homepage`` of ``[project.urls]``."""
    return _project_urls("Homepage", "DFAZOO_PROJECT_URL")


def repository_url() -> str:
    """``$DFAZOO_REPOSITORY_URL``, else the ``Repository`` of ``[project.urls]``: the source
    repository, whose files are at ``<url>/blob/main/<path>``."""
    return _project_urls("Repository", "DFAZOO_REPOSITORY_URL").rstrip("/")


def source_link(path: str) -> str:
    """The URL of the repository file or folder ``path`` (``tree`` for a name without a suffix)."""
    kind = "blob" if Path(path).suffix else "tree"
    return f"{repository_url()}/{kind}/main/{path}"


def hub_org(org: str | None = None) -> str:
    """``org`` if given, else ``$DFAZOO_HUB_ORG``, else ``dfazoo``: the owner of the zoo's Hub repos."""
    return org or os.environ.get("DFAZOO_HUB_ORG") or DEFAULT_HUB_ORG
