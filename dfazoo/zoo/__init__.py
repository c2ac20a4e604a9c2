"""The zoo layer: released weights (Hub and local cards), cards, publishing, evaluation."""

from dfazoo.core.serialization import ModelLoadError
from dfazoo.zoo.factory import create_model
from dfazoo.zoo.hub import HubUnavailableError, from_pretrained, save_model

__all__ = ["HubUnavailableError", "ModelLoadError", "create_model", "from_pretrained", "save_model"]
