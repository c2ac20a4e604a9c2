"""Vision: fully connected nets, CNNs and VGG-16 trained with DFA (principled paper)."""

from dfazoo.vision.cnn import CNN
from dfazoo.vision.mlp import MLP
from dfazoo.vision.vgg import VGG16, vgg16_point_sizes

__all__ = ["CNN", "MLP", "VGG16", "vgg16_point_sizes"]
