"""Where :func:`dfazoo.convert` puts feedback points, found by one dry run of an example input.

- ``"macro"``: after every block, i.e. every composite child of the model's main
  ``nn.ModuleList`` / ``nn.Sequential`` (the one holding the most parameters: Transformer
  blocks, ResNet stages). A flat container (layers, no blocks) has its activations as blocks.
- ``"micro"``: after every activation module as well (tagged ``sublayer``).
- a list of module names, or a callable ``(name, module) -> bool``.

A module whose output only reaches the model output without another parametrised layer gets no
point (its learning signal would be the output error itself). Each point's positions are the
output's leading dims (batch; batch and tokens; nodes), which share the feedback matrix; its size is
the product of its remaining dims (a convolution map gets one row per feature, C·H·W).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from dfazoo.core.activations import Abs
from dfazoo.core.alignment import call_model
from dfazoo.core.outputs import OutputKey, first_tensor, select_output

Rule = str | Sequence[str] | Callable[[str, nn.Module], bool]

ACTIVATION_TYPES: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid,
    nn.Softplus, nn.Softsign, nn.Tanhshrink, nn.LogSigmoid, nn.Threshold, nn.GLU, Abs,
)  # fmt: skip
# Hugging Face activations (transformers.activations) are plain modules named like these.
ACTIVATION_SUFFIXES: tuple[str, ...] = ("Activation", "GELU", "SiLU")


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


@dataclass(frozen=True)
class Plan:
    """The points of a model, the placement its config records, the error size and the module
    whose output is the model output (None: the output is computed after the last module)."""

    points: list[PointSpec]
    placement: str
    error_size: int
    output_module: str | None


def plan_points(model: nn.Module, example_input: Any, placement: Rule, output: OutputKey = None) -> Plan:
    """Run ``example_input`` through ``model`` once (eval mode, no grad) and place the points."""
    run = _dry_run(model, example_input, output)
    chosen, config_placement = _choose(model, run, placement)
    specs = [_spec(name, run, tag) for name, tag in chosen]
    return Plan(specs, config_placement, run.output.shape[-1], run.output_module)


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
        first = first_tensor(out)
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
    out = select_output(result, output)
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
