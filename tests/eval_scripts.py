"""Import a result script of ``eval/`` (a folder of scripts, not a package) as a module for tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EVAL = Path(__file__).resolve().parents[1] / "eval"
if str(EVAL) not in sys.path:
    sys.path.insert(0, str(EVAL))  # the scripts import their shared modules (graph_common, ...) by name


def load_eval_script(name: str) -> ModuleType:
    """``eval/<name>.py`` as module ``name`` (registered, so the scripts' own imports of each other work)."""
    spec = importlib.util.spec_from_file_location(name, EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
