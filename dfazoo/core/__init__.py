"""The DFA engine: feedback matrix, feedback points, output hook, alignment, bottleneck."""

from dfazoo.core.activations import ACTIVATIONS, make_activation
from dfazoo.core.alignment import call_model, measure_alignment
from dfazoo.core.bottleneck import GradientMask
from dfazoo.core.convert import ConvertedModel, convert, converted, unconvert
from dfazoo.core.feedback import FEEDBACK_INITS, FeedbackMatrix, draw_feedback, feedback_memory_bytes
from dfazoo.core.feedback_config import FeedbackConfig
from dfazoo.core.model import DFAModel
from dfazoo.core.points import METHODS, PLACEMENTS, DFAEngine, FeedbackPoint, OutputHook

__all__ = [
    "ACTIVATIONS",
    "ConvertedModel",
    "FEEDBACK_INITS",
    "METHODS",
    "PLACEMENTS",
    "DFAEngine",
    "DFAModel",
    "FeedbackConfig",
    "FeedbackMatrix",
    "FeedbackPoint",
    "GradientMask",
    "OutputHook",
    "call_model",
    "convert",
    "converted",
    "draw_feedback",
    "feedback_memory_bytes",
    "make_activation",
    "measure_alignment",
    "unconvert",
]
