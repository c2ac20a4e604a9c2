"""DFA for an existing PyTorch model in one call, without touching its code.

:func:`convert` runs ``example_input`` through the model once (a dry run, eval mode, no grad)
to find where feedback points go, their sizes and the output's error size, then wraps the model
in a :class:`ConvertedModel`: a :class:`~dfazoo.core.DFAModel` whose feedback points sit in
*forward hooks* of the user's modules and whose :class:`~dfazoo.core.OutputHook` sits in a
forward hook of the module that produces the output. It is the one engine of every dfazoo
architecture: one shared feedback matrix drawn from its own seed, one autograd node for all
points, and detached points, so the input-gradient matmuls of every block are never computed.

Placement rules: :mod:`dfazoo.core.placement`. A block returning a tuple or a ``ModelOutput``
(Hugging Face blocks) gets its point on the first element.
"""

from __future__ import annotations

import copy
import importlib
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from torch import nn
from torch.utils.hooks import RemovableHandle

from dfazoo.core import serialization
from dfazoo.core.model import DFAModel
from dfazoo.core.outputs import OutputKey, map_first, replace_output
from dfazoo.core.placement import PointSpec, Rule, plan_points
from dfazoo.core.points import FeedbackPoint, OutputHook

_converted: weakref.WeakKeyDictionary[nn.Module, ConvertedModel] = weakref.WeakKeyDictionary()


class ConvertedModel(DFAModel):
    """A user's model trained with DFA through hooks: ``.module`` is the untouched original.

    Built by :func:`convert` (or :meth:`from_pretrained`); :func:`unconvert` removes every hook
    and returns the original. Attributes the wrapper does not have are looked up on the original
    (``converted.config``, ``converted.generate``). ``save_pretrained`` writes the usual folder;
    its config records the points and, for a Hugging Face model, the model's own config, so
    :meth:`from_pretrained` rebuilds it; any other model is passed back in as ``model=``.
    """

    arch_name = "converted"

    def __init__(
        self,
        module: nn.Module,
        points: Sequence[PointSpec | Mapping[str, Any]],
        error_size: int,
        output_module: str | None = None,
        output: OutputKey = None,
        **feedback: Any,
    ) -> None:
        _check_convertible(module)
        super().__init__()
        self.module = module
        self.output_key = output
        self.output_module = output_module
        specs = [p if isinstance(p, PointSpec) else PointSpec(**p) for p in points]
        if not specs:
            raise ValueError("a converted model needs at least one feedback point")
        self.specs = specs
        self.points = nn.ModuleDict(
            {_key(s.name): FeedbackPoint(s.size, s.shared_dims, s.tag) for s in specs}
        )
        self.output_hook = OutputHook()
        self._handles: list[RemovableHandle] = []
        self._install_hooks()
        self.setup_feedback(error_size, **feedback)
        for spec in specs:
            self.points[_key(spec.name)].point_name = spec.name
        _converted[module] = self

    def _install_hooks(self) -> None:
        modules = dict(self.module.named_modules())
        targets = [(s.name, self.points[_key(s.name)]) for s in self.specs]
        if self.output_module is not None:
            targets.append((self.output_module, self.output_hook))
        for name, _ in targets:
            if name not in modules:
                raise ValueError(f"{type(self.module).__name__} has no module named {name!r}")
        self._handles = [modules[n].register_forward_hook(_point_hook(hook, n)) for n, hook in targets]

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __deepcopy__(self, memo: dict[int, Any]) -> ConvertedModel:
        """A converted copy of a copy of the original (hooks are not copied: they are re-installed)."""
        self._remove_hooks()
        try:
            module = copy.deepcopy(self.module, memo)
        finally:
            self._install_hooks()
        clone = ConvertedModel(
            module,
            self.specs,
            self.feedback.error_size,
            self.output_module,
            self.output_key,
            **asdict(self.feedback_config),
        )
        clone.load_state_dict(self.state_dict())
        return clone.train(self.training)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        out = self.module(*args, **kwargs)
        if self.output_module is None:
            out = replace_output(out, self.output_key, self.output_hook)
        return out

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)

    def feedback_points(self, active_only: bool = True) -> dict[str, FeedbackPoint]:
        """{name of the hooked module: its point}."""
        points = {s.name: self.points[_key(s.name)] for s in self.specs}
        return {n: p for n, p in points.items() if p.active or not active_only}

    def get_config(self) -> dict[str, Any]:
        cls = type(self.module)
        config: dict[str, Any] = {
            "points": [asdict(s) for s in self.specs],
            "error_size": self.feedback.error_size,
            "output_module": self.output_module,
            "output": self.output_key,
            "module_class": f"{cls.__module__}.{cls.__qualname__}",
            **asdict(self.feedback_config),
        }
        module_config = getattr(self.module, "config", None)
        if hasattr(module_config, "to_dict") and hasattr(cls, "config_class"):
            config["module_config"] = module_config.to_dict()
        return config

    def unconvert(self) -> nn.Module:
        """Remove every hook and return the original model (its weights as trained)."""
        self._remove_hooks()
        _converted.pop(self.module, None)
        return self.module

    @classmethod
    def from_pretrained(  # type: ignore[override]
        cls,
        id_or_path: str | os.PathLike[str],
        *,
        model: nn.Module | None = None,
        org: str | None = None,
        revision: str | None = None,
    ) -> ConvertedModel:
        """Load a saved converted model, in eval mode. ``model``: a fresh instance of the original
        architecture (its weights are replaced); not needed for a Hugging Face model."""
        folder = serialization.resolve_folder(id_or_path, org=org, revision=revision)
        return load_converted(folder, model)


def load_converted(folder: Path, model: nn.Module | None = None) -> ConvertedModel:
    """The converted model saved in ``folder`` (see :meth:`ConvertedModel.from_pretrained`)."""
    config = serialization.read_config(folder)
    if config["architecture"] != ConvertedModel.arch_name:
        raise serialization.ModelLoadError(
            f"{folder} holds a {config['architecture']!r} model, not a converted one; load it with "
            "dfazoo.from_pretrained"
        )
    if model is None:
        model = _rebuild_module(config, folder)
    kwargs = {k: v for k, v in config.items() if k not in serialization.METADATA_KEYS}
    kwargs = {k: v for k, v in kwargs.items() if k not in ("module_class", "module_config")}
    converted = ConvertedModel(model, **kwargs)
    serialization.load_weights(converted, folder / serialization.WEIGHTS_NAME)
    return converted.eval()


def _rebuild_module(config: Mapping[str, Any], folder: Path) -> nn.Module:
    """A fresh Hugging Face model from the saved ``module_config``; other models need ``model=``."""
    path = config.get("module_class", "?")
    if "module_config" not in config:
        raise serialization.ModelLoadError(
            f"{folder} holds weights, not code: pass a fresh {path} as model=, e.g. "
            "ConvertedModel.from_pretrained(folder, model=MyNet())"
        )
    module_name, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as err:
        raise serialization.ModelLoadError(f"{folder} needs {path}, which does not import: {err}") from err
    return cls(cls.config_class.from_dict(config["module_config"]))


def convert(
    model: nn.Module,
    example_input: Any,
    placement: Rule = "macro",
    method: str = "dfa",
    seed: int = 0,
    output: OutputKey = None,
    **feedback: Any,
) -> ConvertedModel:
    """Put DFA on ``model``: feedback points after its blocks (and activations), one shared
    feedback matrix, the output error taken on the model's output.

    Args:
        model: any ``nn.Module``; it is not modified beyond forward hooks.
        example_input: one batch the model accepts (a tensor, a tuple of positional inputs or a
            dict of keyword inputs); sizes the points and the matrix in a dry run.
        placement: ``"macro"``, ``"micro"``, a list of module names or ``(name, module) -> bool``.
        method: ``"dfa"``, ``"bp"`` or ``"shallow"`` (switch later with ``set_method``).
        seed: draws the feedback matrix, from its own generator.
        output: which part of a structured output is the error's tensor: a key or an index
            (default: the tensor itself, a tuple's first element, a mapping's ``logits`` or
            first value).
        feedback: the other :class:`~dfazoo.core.FeedbackConfig` fields.
    """
    _check_convertible(model)
    plan = plan_points(model, example_input, placement, output)
    return ConvertedModel(
        model,
        plan.points,
        error_size=plan.error_size,
        output_module=plan.output_module,
        output=output,
        placement=plan.placement,
        method=method,
        seed=seed,
        **feedback,
    )


def unconvert(model: ConvertedModel) -> nn.Module:
    """Remove every hook :func:`convert` installed and return the original model."""
    if not isinstance(model, ConvertedModel):
        raise TypeError(f"expected a model returned by dfazoo.convert, got {type(model).__name__}")
    return model.unconvert()


@contextmanager
def converted(model: nn.Module, example_input: Any, **kwargs: Any) -> Iterator[ConvertedModel]:
    """``with converted(model, x) as dfa_model:`` trains with DFA inside, the original after."""
    dfa_model = convert(model, example_input, **kwargs)
    try:
        yield dfa_model
    finally:
        dfa_model.unconvert()


def _check_convertible(model: nn.Module) -> None:
    if isinstance(model, DFAModel):
        raise ValueError(f"{type(model).__name__} is already a DFA model: train it as it is")
    if model in _converted:
        raise ValueError(
            f"this {type(model).__name__} is already converted; call dfazoo.unconvert(converted) "
            "first, or keep training the converted model"
        )


def _key(name: str) -> str:
    return name.replace(".", "__")


def _point_hook(point: nn.Module, name: str) -> Callable[..., Any]:
    """A forward hook passing ``name``'s output (its first tensor) through ``point``."""
    return lambda module, args, out: map_first(out, point, name)
