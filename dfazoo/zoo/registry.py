"""The one registry of architectures and pretrained recipes, shared by every domain."""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from typing import TypeVar

from dfazoo.core import DFAModel
from dfazoo.zoo.recipe import Recipe

DOMAINS: tuple[str, ...] = ("vision", "graph", "nlp", "nerf", "recsys")

_ARCHITECTURES: dict[str, type[DFAModel]] = {}
_RECIPES: dict[str, Recipe] = {}
_loaded = False

M = TypeVar("M", bound=type[DFAModel])


class UnknownModelError(KeyError):
    """Raised for an id that is not in the registry; the message suggests close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


def register_architecture(cls: M) -> M:
    """Class decorator: make ``cls`` buildable by its ``arch_name``."""
    if not cls.arch_name:
        raise ValueError(f"{cls.__name__} needs a non-empty arch_name to be registered")
    _ARCHITECTURES[cls.arch_name] = cls
    return cls


def register_recipe(recipe: Recipe) -> Recipe:
    if recipe.domain not in DOMAINS:
        raise ValueError(f"recipe {recipe.model_id}: domain {recipe.domain!r} not in {DOMAINS}")
    _RECIPES[recipe.model_id] = recipe
    return recipe


def _load_domains() -> None:
    """Import every domain package once so that their recipes register themselves."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for domain in DOMAINS:
        try:
            importlib.import_module(f"dfazoo.{domain}.recipes")
        except ModuleNotFoundError as err:
            if err.name != f"dfazoo.{domain}.recipes" and err.name != f"dfazoo.{domain}":
                raise


def get_architecture(name: str) -> type[DFAModel]:
    _load_domains()
    if name not in _ARCHITECTURES:
        close = difflib.get_close_matches(name, list(_ARCHITECTURES), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(f"unknown architecture {name!r}.{hint} Known: {sorted(_ARCHITECTURES)}")
    return _ARCHITECTURES[name]


def get_recipe(model_id: str) -> Recipe:
    _load_domains()
    if model_id not in _RECIPES:
        close = difflib.get_close_matches(model_id, list(_RECIPES), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UnknownModelError(f"unknown model id {model_id!r}.{hint} Run `dfazoo list` to see every model.")
    return _RECIPES[model_id]


def list_models(
    pattern: str | None = None, domain: str | None = None, method: str | None = None
) -> list[str]:
    """Zoo ids, sorted, filtered by a glob ``pattern``, a ``domain`` and a training ``method``."""
    _load_domains()
    return sorted(
        r.model_id
        for r in _RECIPES.values()
        if (pattern is None or fnmatch.fnmatch(r.model_id, pattern))
        and (domain is None or r.domain == domain)
        and (method is None or r.method == method)
    )


def build_model(recipe: Recipe) -> DFAModel:
    """A freshly initialised model for ``recipe`` (weights drawn from the global RNG)."""
    return get_architecture(recipe.arch)(**recipe.model_kwargs())


def create_model(model_id: str, pretrained: bool = False, **overrides: object) -> DFAModel:
    """The zoo model ``model_id``: its released weights (``pretrained=True``) or a fresh init.

    ``overrides`` replace constructor arguments of a fresh model (e.g. ``method="bp"``).
    """
    if pretrained:
        if overrides:
            raise ValueError("overrides apply to fresh models; load, then call set_method/replace_head")
        from dfazoo.zoo.hub import from_pretrained  # the Hub layer builds on the registry

        return from_pretrained(model_id)
    recipe = get_recipe(model_id)
    return get_architecture(recipe.arch)(**{**recipe.model_kwargs(), **overrides})
