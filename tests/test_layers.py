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
        "assert 'huggingface_hub' not in sys.modules, 'importing the trainer loaded huggingface_hub'\n"
        "dfazoo.spec.list_models()  # the domains load; third-party packages may pull in the Hub client\n"
        "loaded = [m for m in ('dfazoo.zoo.cards', 'dfazoo.zoo.publish', 'dfazoo.zoo.hub') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
