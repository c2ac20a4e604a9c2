"""Vision: fully connected nets, CNNs and VGG-16 trained with DFA (principled paper)."""

from dfazoo.vision.mlp import MLP

__all__ = ["MLP"]
