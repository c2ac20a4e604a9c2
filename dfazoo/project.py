"""Where the project lives: its URL, its source repository, the Hub organisation of the zoo
and the zoo's folders, importable from every layer (standard library only).

The URL is the ``Homepage`` of ``[project.urls]`` in ``pyproject.toml``, its one place;
``$DFAZOO_PROJECT_URL`` overrides it. The source repository (where cards link the files they
cite, ``<repository>/blob/main/<path>``) is ``Repository`` there, overridden by
``$DFAZOO_REPOSITORY_URL``. The Hub organisation is ``$DFAZOO_HUB_ORG``, else ``dfazoo``.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the installed metadata only
    tomllib = None

DEFAULT_HUB_ORG = "dfazoo"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def repo_root() -> Path:
    """The source checkout holding this package (where ``model_cards/`` and ``eval/`` live)."""
    return Path(__file__).resolve().parents[1]


def zoo_root() -> Path:
    """Where ``model_cards/`` and ``eval/results/zoo/`` live: ``$DFAZOO_ZOO_DIR``, else the
    source checkout."""
    return Path(os.environ.get("DFAZOO_ZOO_DIR") or repo_root())


def cards_dir() -> Path:
    """The released card folders, one Hub model repo each."""
    return zoo_root() / "model_cards"


def results_dir() -> Path:
    """The measured results of the released models, ``<id>.json`` each."""
    return zoo_root() / "eval" / "results" / "zoo"


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


def index_path() -> Path:
    """The zoo index (``dfazoo/zoo/index.json``): every registered recipe, written by
    ``dfazoo.zoo.index`` and read here without importing torch."""
    return Path(__file__).resolve().parent / "zoo" / "index.json"


def read_index() -> dict[str, dict]:
    """``{model_id: recipe dict}`` of the zoo, from :func:`index_path`."""
    return json.loads(index_path().read_text())
