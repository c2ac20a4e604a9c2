"""DFA for an existing PyTorch model in one call, without touching its code.

:func:`convert` runs ``example_input`` through the model once (a dry run, eval mode, no grad)
to find where feedback points go, their sizes and the output's error size, then wraps the model
in a :class:`ConvertedModel`: a :class:`~dfazoo.core.DFAModel` whose feedback points sit in
*forward hooks* of the user's modules and whose :class:`~dfazoo.core.OutputHook` sits in a
forward hook of the module that produces the output. It is the one engine of every dfazoo
architecture: one shared feedback matrix drawn from its own seed, one autograd node for all
points, and detached points, so the input-gradient matmuls of every block are never computed.

Placement:

- ``"macro"``: after every block, i.e. every composite child of the model's main
  ``nn.ModuleList`` / ``nn.Sequential`` (the one holding the most parameters: Transformer
  blocks, ResNet stages). A flat container (layers, no blocks) has its activations as blocks.
- ``"micro"``: after every activation module as well.
- a list of module names, or a callable ``(name, module) -> bool``.

A module whose output only reaches the model output without another parametrised layer gets no
point (its learning signal would be the output error itself). A block returning a tuple or a
``ModelOutput`` (Hugging Face blocks) gets its point on the first element.
"""

from __future__ import annotations

import copy
import importlib
import math
import os
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from dfazoo.core import serialization
from dfazoo.core.activations import Abs
from dfazoo.core.alignment import call_model
from dfazoo.core.model import DFAModel
from dfazoo.core.points import FeedbackPoint, OutputHook

Rule = str | Sequence[str] | Callable[[str, nn.Module], bool]
OutputKey = str | int | None

ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Threshold, nn.GLU, Abs,
)  # fmt: skip
# Hugging Face activations (transformers.activations) are plain modules named like these.
ACTIVATION_SUFFIXES: tuple[str, ...] = ("Activation", "GELU", "SiLU")

_converted: weakref.WeakKeyDictionary[nn.Module, ConvertedModel] = weakref.WeakKeyDictionary()


def is_activation(module: nn.Module) -> bool:
    """Whether ``module`` is an element-wise non-linearity (torch's, dfazoo's or Hugging Face's)."""
    return isinstance(module, ACTIVATION_TYPES) or type(module).__name__.endswith(ACTIVATION_SUFFIXES)


@dataclass(frozen=True)
class PointSpec:
    """One feedback point: after module ``name``, ``size`` features per position, the first
    ``shared_dims`` dims of its output being positions that share the matrix."""

    name: str
    size: int
    shared_dims: int
    tag: str


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
        if isinstance(module, DFAModel):
            raise ValueError(f"{type(module).__name__} is already a DFA model: train it as it is")
        if module in _converted:
            raise ValueError(
                f"this {type(module).__name__} is already converted; call dfazoo.unconvert(converted) "
                "first, or keep training the converted model"
            )
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
            out = _replace_output(out, self.output_key, self.output_hook)
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
    if isinstance(model, DFAModel):
        raise ValueError(f"{type(model).__name__} is already a DFA model: train it as it is")
    if model in _converted:
        raise ValueError(
            f"this {type(model).__name__} is already converted; call dfazoo.unconvert(converted) "
            "first, or keep training the converted model"
        )
    run = _dry_run(model, example_input, output)
    chosen, config_placement = _choose(model, run, placement)
    specs = [_spec(name, run, tag) for name, tag in chosen]
    return ConvertedModel(
        model,
        specs,
        error_size=run.output.shape[-1],
        output_module=run.output_module,
        output=output,
        placement=config_placement,
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


@dataclass
class _DryRun:
    """What one forward pass showed: module output shapes, call order, the output."""

    shapes: dict[str, list[torch.Size]]
    last_call: dict[str, int]
    last_param_call: int
    output: torch.Tensor
    output_module: str | None


def _dry_run(model: nn.Module, example_input: Any, output: OutputKey) -> _DryRun:
    shapes: dict[str, list[torch.Size]] = {}
    last_call: dict[str, int] = {}
    tensors: dict[str, torch.Tensor] = {}
    state = {"calls": 0, "last_param": -1}

    def record(name: str, module: nn.Module, out: Any) -> None:
        state["calls"] += 1
        last_call[name] = state["calls"]
        if next(module.parameters(recurse=False), None) is not None:
            state["last_param"] = state["calls"]
        first = _first_tensor(out)
        if first is not None:
            shapes.setdefault(name, []).append(first.shape)
            tensors[name] = first

    handles = [
        m.register_forward_hook(lambda mod, args, out, name=name: record(name, mod, out))
        for name, m in model.named_modules()
    ]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            result = call_model(model, example_input)
    except Exception as err:  # the user's model raises anything on a mismatched input
        raise ValueError(f"example_input does not run through {type(model).__name__}: {err}") from err
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    out = _select_output(result, output)
    producers = [n for n, t in tensors.items() if n and t is out]
    producer = max(producers, key=last_call.__getitem__) if producers else None
    return _DryRun(shapes, last_call, state["last_param"], out, producer)


def _choose(model: nn.Module, run: _DryRun, placement: Rule) -> tuple[list[tuple[str, str]], str]:
    """[(module name, tag)] of the points, and the placement the config records."""
    modules = dict(model.named_modules())
    if isinstance(placement, str) and placement in ("macro", "micro"):
        blocks = _blocks(model)
        block_names = set(blocks)
        acts = [n for n, m in modules.items() if is_activation(m) and n not in block_names]
        chosen = [(n, "block") for n in blocks] + [(n, "sublayer") for n in acts]
        chosen = [(n, t) for n, t in chosen if _useful(n, run)]
        if not any(t == "block" for _, t in chosen) and not (placement == "micro" and chosen):
            raise ValueError(
                f"no module of {type(model).__name__} matches placement={placement!r}: it has no "
                "nn.ModuleList / nn.Sequential of blocks or activations feeding later layers; "
                "pass a list of module names"
            )
        return sorted(chosen, key=lambda c: run.last_call[c[0]]), placement
    if isinstance(placement, str):
        placement = [placement]
    if callable(placement):
        names = [n for n, m in modules.items() if n and placement(n, m)]
        if not names:
            raise ValueError(f"the placement rule matches no module of {type(model).__name__}")
    else:
        names = list(placement)
        unknown = [n for n in names if n not in modules or not n]
        if unknown:
            raise ValueError(
                f"{type(model).__name__} has no module named {', '.join(map(repr, unknown))}; "
                "see model.named_modules()"
            )
    never = [n for n in names if n not in run.shapes]
    if never:
        raise ValueError(f"module(s) {', '.join(map(repr, never))} return no tensor on example_input")
    useless = [n for n in names if not _useful(n, run)]
    if useless:
        raise ValueError(
            f"module(s) {', '.join(map(repr, useless))} feed the output with no layer after them: "
            "a point there would receive the output error itself"
        )
    return sorted(((n, "block") for n in names), key=lambda c: run.last_call[c[0]]), "macro"


def _blocks(model: nn.Module) -> list[str]:
    """Names of the blocks of the main container (see the module docstring)."""
    containers = [
        (name, m)
        for name, m in model.named_modules()
        if isinstance(m, (nn.ModuleList, nn.Sequential)) and len(m) >= 2
    ]
    if not containers:
        return []
    name, main = max(containers, key=lambda c: (sum(p.numel() for p in c[1].parameters()), -c[0].count(".")))
    prefix = f"{name}." if name else ""
    children = [(f"{prefix}{child}", m) for child, m in main.named_children()]
    composite = [n for n, m in children if next(m.children(), None) is not None]
    return composite or [n for n, m in children if is_activation(m)]


def _useful(name: str, run: _DryRun) -> bool:
    """Whether ``name`` ran and a parametrised layer ran after it (else it feeds the output)."""
    return name in run.shapes and run.last_call[name] < run.last_param_call


def _spec(name: str, run: _DryRun, tag: str) -> PointSpec:
    positions = tuple(run.output.shape[:-1])
    sizes = set()
    for shape in run.shapes[name]:
        if tuple(shape[: len(positions)]) != positions:
            raise ValueError(
                f"module {name!r} outputs shape {tuple(shape)}, whose leading dims are not the "
                f"output's positions {positions}: its feedback cannot be shared across them; "
                "leave it out of the placement"
            )
        sizes.add(math.prod(shape[len(positions) :]))
    if len(sizes) != 1:
        raise ValueError(f"module {name!r} is called with different output sizes {sorted(sizes)}")
    return PointSpec(name, sizes.pop(), len(positions), tag)


def _key(name: str) -> str:
    return name.replace(".", "__")


def _first_tensor(out: Any) -> torch.Tensor | None:
    if isinstance(out, torch.Tensor):
        return out
    if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor):
        return out[0]
    if isinstance(out, Mapping) and out:
        first = next(iter(out.values()))
        return first if isinstance(first, torch.Tensor) else None
    return None


def _select_output(out: Any, key: OutputKey) -> torch.Tensor:
    """The tensor of ``out`` the DFA error is taken on."""
    if key is None:
        if isinstance(out, Mapping) and "logits" in out:
            key = "logits"
        else:
            found = _first_tensor(out)
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


def _replace_output(out: Any, key: OutputKey, hook: OutputHook) -> Any:
    """``out`` with its selected tensor passed through ``hook``."""
    if isinstance(out, torch.Tensor):
        return hook(out)
    selected = _select_output(out, key)
    if isinstance(out, Mapping):
        name = key if key is not None else ("logits" if "logits" in out else next(iter(out)))
        out[name] = hook(selected)
        return out
    index = key if isinstance(key, int) else 0
    items = list(out)
    items[index] = hook(selected)
    return type(out)(items) if isinstance(out, list) else tuple(items)


def _map_first(out: Any, fn: Callable[[torch.Tensor], torch.Tensor], name: str) -> Any:
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


def _point_hook(point: nn.Module, name: str) -> Callable[..., Any]:
    """A forward hook passing ``name``'s output (its first tensor) through ``point``."""
    return lambda module, args, out: _map_first(out, point, name)
