"""``create_model``: a zoo model by id, fresh from its recipe or with its released weights.

Like timm's ``_factory.py`` above ``_registry.py``: the registry (``dfazoo.spec``) knows recipes
and architectures; the factory adds the released weights, which live in the zoo layer.
"""

from __future__ import annotations

from dfazoo.core import DFAModel
from dfazoo.spec import build_model, get_recipe
from dfazoo.zoo.hub import from_pretrained


def create_model(model_id: str, pretrained: bool = False, **overrides: object) -> DFAModel:
    """The zoo model ``model_id``: its released weights (``pretrained=True``) or a fresh init.

    ``overrides`` replace constructor arguments of a fresh model (e.g. ``method="bp"``).
    """
    if pretrained:
        if overrides:
            raise ValueError("overrides apply to fresh models; load, then call set_method/replace_head")
        return from_pretrained(model_id)
    return build_model(get_recipe(model_id), **overrides)
