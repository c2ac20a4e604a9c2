"""The one registry of architectures, tasks and zoo recipes, filled by the domain packages.

A domain package (``dfazoo/vision``, ``dfazoo/graph``, ...) declares what it contributes in its
``__init__.py`` with one :func:`register_domain` call; :data:`DOMAINS` lists the packages, and
the first look-up imports them. Registering a name twice raises.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dfazoo.core import METHODS, DFAModel
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task

if TYPE_CHECKING:
    from collections.abc import Iterable

# The domain packages, imported on the first registry look-up. Adding a domain adds one name.
DOMAINS: tuple[str, ...] = ("vision", "graph", "nlp", "recsys", "nerf")

_ARCHITECTURES: dict[str, type[DFAModel]] = {}
_TASKS: dict[str, type[Task]] = {}
_RECIPES: dict[str, Recipe] = {}
_DOMAINS: dict[str, Domain] = {}
_loaded = False


class UnknownModelError(KeyError):
    """Raised for an id that is not in the registry; the message suggests close matches."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Domain:
    """What one domain package contributes: its architectures, tasks and zoo recipes."""

    name: str
    architectures: tuple[type[DFAModel], ...] = ()
    tasks: tuple[type[Task], ...] = ()
    recipes: tuple[Recipe, ...] = ()


def _add(table: dict, key: str, value: object, kind: str) -> None:
    if key in table and table[key] is not value:
        raise ValueError(f"{kind} {key!r} is registered twice ({table[key]!r} and {value!r})")
    table[key] = value


def register_architecture(cls: type[DFAModel]) -> type[DFAModel]:
    """Make ``cls`` buildable by its ``arch_name`` (e.g. from a ``config.json``)."""
    if not cls.arch_name:
        raise ValueError(f"{cls.__name__} needs a non-empty arch_name to be registered")
    _add(_ARCHITECTURES, cls.arch_name, cls, "architecture")
    return cls


def register_task(cls: type[Task]) -> type[Task]:
    """Make ``cls`` the task of every recipe whose ``task`` is ``cls.name``."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} needs a non-empty name")
    _add(_TASKS, cls.name, cls, "task")
    return cls


def register_recipe(recipe: Recipe) -> Recipe:
    """Add ``recipe`` to the zoo under ``recipe.model_id``."""
    if recipe.method not in METHODS:
        raise ValueError(f"recipe {recipe.model_id}: method {recipe.method!r} not in {METHODS}")
    _add(_RECIPES, recipe.model_id, recipe, "model id")
    return recipe


def register_domain(domain: Domain) -> Domain:
    """Register a domain's architectures, tasks and recipes; called once in its ``__init__``."""
    _add(_DOMAINS, domain.name, domain, "domain")
    for cls in domain.architectures:
        register_architecture(cls)
    for task in domain.tasks:
        register_task(task)
    for recipe in domain.recipes:
        if recipe.domain != domain.name:
            raise ValueError(f"recipe {recipe.model_id} has domain {recipe.domain!r}, not {domain.name!r}")
        register_recipe(recipe)
    return domain


def load_domains() -> None:
    """Import every package of :data:`DOMAINS` once; each registers itself on import."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    for name in DOMAINS:
        importlib.import_module(f"dfazoo.{name}")
        if name not in _DOMAINS:
            raise RuntimeError(f"dfazoo.{name} is listed in DOMAINS but did not call register_domain")


def domains() -> dict[str, Domain]:
    load_domains()
    return dict(_DOMAINS)


def _unknown(kind: str, name: str, known: Iterable[str], hint: str = "") -> UnknownModelError:
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    guess = f" Did you mean {', '.join(close)}?" if close else ""
    return UnknownModelError(f"unknown {kind} {name!r}.{guess}{hint}")


def get_architecture(name: str) -> type[DFAModel]:
    load_domains()
    if name not in _ARCHITECTURES:
        raise _unknown("architecture", name, _ARCHITECTURES, f" Known: {sorted(_ARCHITECTURES)}")
    return _ARCHITECTURES[name]


def get_task(name: str) -> type[Task]:
    load_domains()
    if name not in _TASKS:
        raise _unknown("task", name, _TASKS, f" Known: {sorted(_TASKS)}")
    return _TASKS[name]


def get_recipe(model_id: str) -> Recipe:
    load_domains()
    if model_id not in _RECIPES:
        raise _unknown("model id", model_id, _RECIPES, " Run `dfazoo list` to see every model.")
    return _RECIPES[model_id]


def list_models(
    pattern: str | None = None, domain: str | None = None, method: str | None = None
) -> list[str]:
    """Zoo ids, sorted, filtered by a glob ``pattern``, a ``domain`` and a training ``method``."""
    load_domains()
    return sorted(
        r.model_id
        for r in _RECIPES.values()
        if (pattern is None or fnmatch.fnmatch(r.model_id, pattern))
        and (domain is None or r.domain == domain)
        and (method is None or r.method == method)
    )


def build_model(recipe: Recipe, **overrides: object) -> DFAModel:
    """A freshly initialised model for ``recipe`` (weights drawn from the global RNG);
    ``overrides`` replace constructor arguments (e.g. ``method="bp"``)."""
    return get_architecture(recipe.arch)(**{**recipe.model_kwargs(), **overrides})


def make_task(recipe: Recipe, data_root: str | None = None) -> Task:
    """The task registered as ``recipe.task``, bound to ``recipe`` and ``data_root``."""
    return get_task(recipe.task)(recipe, data_root)
