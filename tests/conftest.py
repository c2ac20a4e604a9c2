import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def shared_data() -> Path:
    """The real datasets root; skips the test when it is absent."""
    root = os.environ.get("DFAZOO_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("real datasets absent: set DFAZOO_DATA to ../shared/data")
    return Path(root)


@pytest.fixture(autouse=True)
def runs_in_tmp(tmp_path, monkeypatch) -> None:
    """Every test's runner runs go to its own folder, never the user's run cache."""
    monkeypatch.setenv("DFAZOO_RUNS", str(tmp_path / "runs"))
