"""dfazoo: the model zoo for networks trained with Direct Feedback Alignment."""

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook, measure_alignment

__version__ = "0.1.0"

__all__ = ["DFAModel", "FeedbackPoint", "OutputHook", "__version__", "measure_alignment"]

from dfazoo.zoo.hub import from_pretrained, save_model  # noqa: E402
from dfazoo.zoo.registry import list_models  # noqa: E402

__all__ += ["from_pretrained", "list_models", "save_model"]
