"""The zoo index: every registered recipe as JSON, so that ``dfazoo list`` and ``dfazoo info``
answer without importing torch or the domain packages (``dfazoo.project.read_index``).

Regenerate it after changing a recipe with ``python -m dfazoo.zoo.index`` (``scripts/train_zoo.py
--readme-only`` does too); ``tests/test_zoo_index.py`` checks that it equals the registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dfazoo.files import atomic_file
from dfazoo.project import index_path
from dfazoo.spec import get_recipe, list_models


def build_index() -> dict[str, dict[str, Any]]:
    """``{model_id: recipe dict}`` for every registered zoo model, as JSON would store it."""
    return json.loads(json.dumps({mid: get_recipe(mid).to_dict() for mid in list_models()}))


def render_index() -> str:
    return json.dumps(build_index(), indent=1, sort_keys=True) + "\n"


def write_index(path: Path | None = None) -> bool:
    """Write the index if it changed; True when it did."""
    path = path or index_path()
    text = render_index()
    if path.exists() and path.read_text() == text:
        return False
    with atomic_file(path) as f:
        f.write(text.encode())
    return True


if __name__ == "__main__":
    print(f"{index_path()} {'updated' if write_index() else 'unchanged'}")
