"""dfazoo: the model zoo for networks trained with Direct Feedback Alignment."""

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook, measure_alignment
from dfazoo.spec import get_recipe, list_models
from dfazoo.version import __version__
from dfazoo.zoo import create_model, from_pretrained, save_model

__all__ = [
    "DFAModel",
    "FeedbackPoint",
    "OutputHook",
    "__version__",
    "create_model",
    "from_pretrained",
    "get_recipe",
    "list_models",
    "measure_alignment",
    "save_model",
]
