"""The zoo layer: registry, recipes, tasks (from_pretrained, cards, publishing build on it)."""

from dfazoo.zoo.hub import HubUnavailableError, ModelLoadError, from_pretrained, save_model
from dfazoo.zoo.recipe import Recipe
from dfazoo.zoo.registry import (
    UnknownModelError,
    build_model,
    create_model,
    get_architecture,
    get_recipe,
    list_models,
    register_architecture,
    register_recipe,
)
from dfazoo.zoo.task import Task, get_task, register_task

__all__ = [
    "HubUnavailableError",
    "ModelLoadError",
    "Recipe",
    "Task",
    "UnknownModelError",
    "build_model",
    "create_model",
    "from_pretrained",
    "get_architecture",
    "get_recipe",
    "get_task",
    "list_models",
    "register_architecture",
    "register_recipe",
    "register_task",
    "save_model",
]
