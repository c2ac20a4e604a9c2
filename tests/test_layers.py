"""The package's layers import only downwards, checked with import-linter.

The contracts are built here from the registry's ``DOMAINS``, so adding a domain needs no edit
beyond that one line: cli > demo > zoo > train > domains > data > spec > core > utilities, and no
``huggingface_hub`` import below the zoo layer.
"""

import subprocess
import sys
from pathlib import Path

from dfazoo.spec.registry import DOMAINS

ROOT = Path(__file__).resolve().parents[1]
UTILITIES = ("files", "version", "stats", "project", "methods", "lazy")


def contracts() -> str:
    """The import-linter configuration (INI) of the package's layers."""
    domains = " | ".join(f"dfazoo.{d}" for d in DOMAINS)
    utilities = " | ".join(f"dfazoo.{u}" for u in UTILITIES)
    layers = ["cli", "demo", "zoo", "train", None, "data", "spec", "core"]
    layer_lines = "".join(f"    {domains if n is None else 'dfazoo.' + n}\n" for n in layers)
    below_zoo = ["core", "spec", "data", *DOMAINS, "train"]
    return (
        "[importlinter]\nroot_package = dfazoo\ninclude_external_packages = True\n\n"
        "[importlinter:contract:layers]\nname = dfazoo layers\ntype = layers\nlayers =\n"
        f"{layer_lines}    {utilities}\n\n"
        "[importlinter:contract:no-hub-below-zoo]\nname = below the zoo layer nothing imports huggingface_hub\n"
        "type = forbidden\nsource_modules =\n"
        + "".join(f"    dfazoo.{m}\n" for m in below_zoo)
        + "forbidden_modules =\n    huggingface_hub\n"
    )


def test_import_contracts_hold(tmp_path):
    config = tmp_path / "importlinter.ini"
    config.write_text(contracts())
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache", "--config", str(config)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    """Not vacuous: with core and spec swapped (spec builds on core) the contract breaks."""
    config = tmp_path / "importlinter.ini"
    swapped = contracts().replace(
        "    dfazoo.spec\n    dfazoo.core\n", "    dfazoo.core\n    dfazoo.spec\n", 1
    )
    assert swapped != contracts()
    config.write_text(swapped)
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--no-cache", "--config", str(config)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode != 0


def test_importing_the_trainer_loads_no_hub_code():
    code = (
        "import sys, dfazoo.train, dfazoo.spec\n"
        "assert 'huggingface_hub' not in sys.modules, 'importing the trainer loaded huggingface_hub'\n"
        "dfazoo.spec.list_models()  # the domains load; third-party packages may pull in the Hub client\n"
        "loaded = [m for m in ('dfazoo.zoo.cards', 'dfazoo.zoo.publish', 'dfazoo.zoo.hub') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
