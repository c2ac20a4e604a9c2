"""dfazoo: the model zoo for networks trained with Direct Feedback Alignment.

The public names load on first use (PEP 562), so ``import dfazoo`` and the command line's quick
commands start without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dfazoo.lazy import lazy_exports
from dfazoo.version import __version__

_EXPORTS: dict[str, str] = {
    "ConvertedModel": "dfazoo.core",
    "DFAModel": "dfazoo.core",
    "convert": "dfazoo.core",
    "converted": "dfazoo.core",
    "unconvert": "dfazoo.core",
    "FeedbackPoint": "dfazoo.core",
    "OutputHook": "dfazoo.core",
    "measure_alignment": "dfazoo.core",
    "get_recipe": "dfazoo.spec",
    "list_models": "dfazoo.spec",
    "create_model": "dfazoo.zoo",
    "evaluate_model": "dfazoo.zoo.evaluate",
    "from_pretrained": "dfazoo.zoo",
    "replace_head": "dfazoo.zoo.finetune",
    "save_model": "dfazoo.zoo",
}

__all__ = [
    "ConvertedModel",
    "DFAModel",
    "FeedbackPoint",
    "OutputHook",
    "__version__",
    "convert",
    "converted",
    "create_model",
    "evaluate_model",
    "from_pretrained",
    "get_recipe",
    "list_models",
    "measure_alignment",
    "replace_head",
    "save_model",
    "unconvert",
]

if TYPE_CHECKING:
    from dfazoo.core import (
        ConvertedModel,
        DFAModel,
        FeedbackPoint,
        OutputHook,
        convert,
        converted,
        measure_alignment,
        unconvert,
    )
    from dfazoo.spec import get_recipe, list_models
    from dfazoo.zoo import create_model, from_pretrained, save_model
    from dfazoo.zoo.evaluate import evaluate_model
    from dfazoo.zoo.finetune import replace_head

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
