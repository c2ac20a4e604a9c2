import dataclasses
import os
from pathlib import Path

import pytest
import torch

from dfazoo.spec import registry

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def shared_data() -> Path:
    """The real datasets root; skips the test when it is absent."""
    root = os.environ.get("DFAZOO_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("real datasets absent: set DFAZOO_DATA to ../shared/data")
    return Path(root)


@pytest.fixture
def zoo(tmp_path, monkeypatch) -> Path:
    """An empty zoo in tmp_path whose digits recipes train for 2 epochs."""
    monkeypatch.setenv("DFAZOO_ZOO_DIR", str(tmp_path))
    for method in ("dfa", "bp"):
        recipe = registry.get_recipe(f"mlp-digits-{method}")
        monkeypatch.setitem(registry._RECIPES, recipe.model_id, dataclasses.replace(recipe, epochs=2))
    torch.set_num_threads(1)
    return tmp_path


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch) -> None:
    """Every test's runner runs go to its own folder, never the user's run cache."""
    monkeypatch.setenv("DFAZOO_RUNS", str(tmp_path / "runs"))
