"""The contracts every domain fills in: recipes, tasks and the one registry."""

from dfazoo.spec.recipe import Recipe
from dfazoo.spec.registry import (
    DOMAINS,
    Domain,
    UnknownModelError,
    build_model,
    domains,
    get_architecture,
    get_recipe,
    get_task,
    list_models,
    make_task,
    register_architecture,
    register_domain,
    register_recipe,
    register_task,
)
from dfazoo.spec.task import SPLITS, Task

__all__ = [
    "DOMAINS",
    "SPLITS",
    "Domain",
    "Recipe",
    "Task",
    "UnknownModelError",
    "build_model",
    "domains",
    "get_architecture",
    "get_recipe",
    "get_task",
    "list_models",
    "make_task",
    "register_architecture",
    "register_domain",
    "register_recipe",
    "register_task",
]
