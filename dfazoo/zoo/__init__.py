"""The zoo layer: released weights (Hub and local cards), cards, publishing, evaluation."""

from dfazoo.core.serialization import ModelLoadError
from dfazoo.zoo.evaluate import evaluate_model
from dfazoo.zoo.factory import create_model
from dfazoo.zoo.finetune import replace_head
from dfazoo.zoo.hub import HubUnavailableError, from_pretrained, save_model

__all__ = [
    "HubUnavailableError",
    "ModelLoadError",
    "create_model",
    "evaluate_model",
    "from_pretrained",
    "replace_head",
    "save_model",
]
