"""Optimizer and learning-rate scheduler from a recipe's ``{"name": ..., **kwargs}`` specs."""

from __future__ import annotations

import fnmatch
import inspect
from typing import Any

import torch
from torch import nn
from torch.optim import lr_scheduler

OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    name.lower(): cls
    for name, cls in vars(torch.optim).items()
    if inspect.isclass(cls) and issubclass(cls, torch.optim.Optimizer) and cls is not torch.optim.Optimizer
}

SCHEDULERS: dict[str, type] = {
    "step": lr_scheduler.StepLR,
    "multistep": lr_scheduler.MultiStepLR,
    "exponential": lr_scheduler.ExponentialLR,
    "cosine": lr_scheduler.CosineAnnealingLR,
    "linear": lr_scheduler.LinearLR,
    "onecycle": lr_scheduler.OneCycleLR,
    "plateau": lr_scheduler.ReduceLROnPlateau,
}


def build_optimizer(model: nn.Module, spec: dict[str, Any]) -> torch.optim.Optimizer:
    """``{"name": "adam", "lr": 1e-3, ..., "param_groups": [{"match": "head.*", "lr": 1e-2}]}``.

    Each ``param_groups`` entry overrides options for the parameters whose names match its glob
    (first match wins); the others form the default group.
    """
    spec = dict(spec)
    name = str(spec.pop("name", "adam")).lower()
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer {name!r} is unknown; choose one of {sorted(OPTIMIZERS)}")
    overrides = spec.pop("param_groups", [])
    groups: list[dict[str, Any]] = [
        {"params": [], **{k: v for k, v in o.items() if k != "match"}} for o in overrides
    ]
    default: list[nn.Parameter] = []
    for pname, param in model.named_parameters():
        if not param.requires_grad:
            continue
        index = next((i for i, o in enumerate(overrides) if fnmatch.fnmatch(pname, o["match"])), None)
        (default if index is None else groups[index]["params"]).append(param)
    groups = [g for g in ({"params": default}, *groups) if g["params"]]
    return OPTIMIZERS[name](groups, **spec)


def build_scheduler(
    optimizer: torch.optim.Optimizer,
    spec: dict[str, Any] | None,
    *,
    epochs: int,
    steps_per_epoch: int | None,
    higher_is_better: bool,
) -> tuple[Any, str]:
    """(scheduler or None, interval): ``interval`` is ``"epoch"`` (default) or ``"step"``.

    Extra keys: ``interval``; ``warmup`` (units of linear warm-up from ``warmup_start`` x lr,
    before the named schedule). ``cosine`` defaults ``T_max`` and ``onecycle`` ``total_steps``
    to the run's length in that unit; ``plateau`` steps on the selection metric.
    """
    if spec is None or spec.get("name", "none") in (None, "none"):
        return None, "epoch"
    spec = dict(spec)
    name = spec.pop("name")
    interval = spec.pop("interval", "epoch")
    warmup = int(spec.pop("warmup", 0))
    warmup_start = float(spec.pop("warmup_start", 1e-3))
    if name not in SCHEDULERS:
        raise ValueError(f"scheduler {name!r} is unknown; choose one of {sorted(SCHEDULERS)} or 'none'")
    if interval not in ("epoch", "step"):
        raise ValueError(f"scheduler interval={interval!r}; choose 'epoch' or 'step'")
    if interval == "epoch":
        total = epochs
    elif "total_steps" in spec or "T_max" in spec:
        total = int(spec.pop("total_steps", spec.get("T_max")))
    elif steps_per_epoch is not None:
        total = epochs * steps_per_epoch
    else:
        raise ValueError(
            "a per-step scheduler needs the number of steps: the task's train_batches has no len(), "
            "so add 'total_steps' to the recipe's scheduler"
        )
    if name == "plateau":
        if warmup or interval == "step":
            raise ValueError("the plateau scheduler steps on validation: no warmup, interval 'epoch' only")
        spec.setdefault("mode", "max" if higher_is_better else "min")
    if name == "cosine":
        spec.setdefault("T_max", max(total - warmup, 1))
    if name == "onecycle":
        spec.setdefault("total_steps", total)
        spec.setdefault("max_lr", [g["lr"] for g in optimizer.param_groups])
    main = SCHEDULERS[name](optimizer, **spec)
    if not warmup:
        return main, interval
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=warmup_start, total_iters=warmup)
    return lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup]), interval
