"""Vision: fully connected nets, CNNs and VGG-16 trained with DFA (principled paper)."""

from dfazoo.spec import Domain, register_domain
from dfazoo.vision.cnn import CNN
from dfazoo.vision.mlp import MLP
from dfazoo.vision.normalization import preprocess, preprocessing
from dfazoo.vision.recipes import RECIPES
from dfazoo.vision.task import ImageClassificationTask
from dfazoo.vision.vgg import VGG16, vgg16_point_sizes

DOMAIN = register_domain(
    Domain("vision", architectures=(MLP, CNN, VGG16), tasks=(ImageClassificationTask,), recipes=RECIPES)
)

__all__ = [
    "CNN",
    "DOMAIN",
    "MLP",
    "VGG16",
    "ImageClassificationTask",
    "preprocess",
    "preprocessing",
    "vgg16_point_sizes",
]
