"""Fine-tuning: give a pretrained DFA model a new output layer and keep training it."""

from __future__ import annotations

from torch import nn

from dfazoo.core import DFAModel, FeedbackMatrix

# Constructor arguments that hold the output size, tried in order when an architecture does
# not name its own with a ``head_config_key`` class attribute.
OUTPUT_SIZE_KEYS: tuple[str, ...] = ("out_features", "num_classes", "out_channels", "num_outputs")


def head_name(model: DFAModel) -> str:
    """The dotted name of the output layer: the architecture's ``head_name``, else ``"head"``."""
    return getattr(type(model), "head_name", "head")


def head_module(model: DFAModel) -> nn.Module:
    """The output layer that :func:`replace_head` swaps; ``ValueError`` when there is none."""
    name = head_name(model)
    try:
        return model.get_submodule(name)
    except AttributeError as err:
        raise ValueError(
            f"{type(model).__name__} has no output layer {name!r} to replace: replace_head applies to "
            "models that end in a classifier or regressor (an autoencoder's embedding output has "
            "none; fine-tune it as is). For your own architecture, name the layer with a class "
            "attribute head_name."
        ) from err


def replace_head(model: DFAModel, num_outputs: int, new_head: nn.Module | None = None) -> DFAModel:
    """Swap the output layer for one with ``num_outputs`` outputs, in place, and return the model.

    A linear head is rebuilt with the same input size (PyTorch's default init); other heads must
    be given as ``new_head``. The shared feedback matrix is redrawn for the new error size from
    the same seed, init and normalisation, so it equals a fresh model's, and the DFA engine is
    rebound to it. The saved config's output size is updated so ``save_pretrained`` round-trips.
    """
    if num_outputs < 1:
        raise ValueError(f"num_outputs must be positive, got {num_outputs}")
    name = head_name(model)
    old = head_module(model)
    if new_head is None:
        if not isinstance(old, nn.Linear):
            raise TypeError(
                f"{type(model).__name__}.{name} is a {type(old).__name__}; pass new_head= with a module "
                f"producing {num_outputs} outputs"
            )
        new_head = nn.Linear(old.in_features, num_outputs, bias=old.bias is not None)
    parent_name, _, attr = name.rpartition(".")
    setattr(model.get_submodule(parent_name) if parent_name else model, attr, new_head)

    old_fb = model.feedback
    model.feedback = FeedbackMatrix(old_fb.l_max, num_outputs, old_fb.init, old_fb.seed, old_fb.normalize)
    model._engine.feedback = model.feedback

    config = model.get_config()
    key = getattr(type(model), "head_config_key", None)
    keys = [key] if key else [k for k in OUTPUT_SIZE_KEYS if config.get(k) == old_fb.error_size]
    for k in keys[:1]:
        model.update_config(**{k: num_outputs})
    return model
