"""Where the project lives: its URL and the Hub organisation of the zoo, importable from every layer.

The URL is the ``Homepage`` of ``[project.urls]`` in ``pyproject.toml``, its one place;
``$DFAZOO_PROJECT_URL`` overrides it. The Hub organisation is ``$DFAZOO_HUB_ORG``, else ``dfazoo``.
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


def project_url() -> str:
    """``$DFAZOO_PROJECT_URL``, else the ``Homepage`` of ``[project.urls]``: read from the source
    checkout's ``pyproject.toml`` when there is one (an edit needs no reinstall; Python >= 3.11),
    else from the installed package's metadata."""
    if url := os.environ.get("DFAZOO_PROJECT_URL"):
        return url
    if tomllib is not None and PYPROJECT.exists():
        return tomllib.loads(PYPROJECT.read_text())["project"]["urls"]["Homepage"]
    for entry in importlib.metadata.metadata("dfazoo").get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip() == "Homepage":
            return url.strip()
    raise LookupError("dfazoo's metadata has no Homepage URL; set $DFAZOO_PROJECT_URL")


def hub_org(org: str | None = None) -> str:
    """``org`` if given, else ``$DFAZOO_HUB_ORG``, else ``dfazoo``: the owner of the zoo's Hub repos."""
    return org or os.environ.get("DFAZOO_HUB_ORG") or DEFAULT_HUB_ORG
