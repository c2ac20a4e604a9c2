"""The tensor of a model's (or a module's) output that DFA works on: the tensor itself, a
tuple's first element, a mapping's ``logits`` or first value, or the one ``output=KEY`` names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

OutputKey = str | int | None


def first_tensor(out: Any) -> torch.Tensor | None:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, Mapping) and out:
        first = next(iter(out.values()))
        return first if isinstance(first, torch.Tensor) else None
    return None


def select_output(out: Any, key: OutputKey) -> torch.Tensor:
    """The tensor of ``out`` the DFA error is taken on."""
    if key is None:
        if isinstance(out, Mapping) and "logits" in out:
            key = "logits"
        else:
            found = first_tensor(out)
            if found is None:
                raise TypeError(
                    f"the model returned a {type(out).__name__}, not a tensor; pass output=KEY or "
                    "INDEX naming the tensor the error is taken on"
                )
            return found
    try:
        selected = out[key]
    except (KeyError, IndexError, TypeError) as err:
        raise TypeError(f"output={key!r} selects nothing from the model's {type(out).__name__}") from err
    if not isinstance(selected, torch.Tensor):
        raise TypeError(f"output={key!r} selects a {type(selected).__name__}, not a tensor")
    return selected


def replace_output(out: Any, key: OutputKey, hook: Callable[[torch.Tensor], torch.Tensor]) -> Any:
    """``out`` with its selected tensor passed through ``hook``."""
    if isinstance(out, torch.Tensor):
        return hook(out)
    selected = select_output(out, key)
    if isinstance(out, Mapping):
        name = key if key is not None else ("logits" if "logits" in out else next(iter(out)))
        out[name] = hook(selected)
        return out
    index = key if isinstance(key, int) else 0
    items = list(out)
    items[index] = hook(selected)
    return type(out)(items) if isinstance(out, list) else tuple(items)


def map_first(out: Any, fn: Callable[[torch.Tensor], torch.Tensor], name: str) -> Any:
    """``out`` with ``fn`` applied to its tensor, or to the first element of a tuple or mapping."""
    if isinstance(out, torch.Tensor):
        return fn(out)
    if isinstance(out, tuple) and out and isinstance(out[0], torch.Tensor):
        return (fn(out[0]), *out[1:])
    if isinstance(out, Mapping) and out:
        first = next(iter(out))
        out[first] = fn(out[first])  # ModelOutput keeps its attribute in step
        return out
    raise TypeError(f"module {name!r} returned a {type(out).__name__}; DFA needs a tensor there")
