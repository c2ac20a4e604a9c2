"""The package's layers import only downwards (import-linter contracts in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:]


def test_importing_the_trainer_loads_no_hub_code():
    code = (
        "import sys, dfazoo.train, dfazoo.spec\n"
        "dfazoo.spec.list_models()\n"
        "loaded = [m for m in ('huggingface_hub', 'dfazoo.zoo.cards', 'dfazoo.zoo.publish') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
