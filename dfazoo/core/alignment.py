"""Alignment angles (principled paper eq. 6): cosine between B_i e and the BP signal c_i."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from dfazoo.core.model import DFAModel


def call_model(model: torch.nn.Module, inputs: Any) -> torch.Tensor:
    """Call with a tensor, a tuple of positional inputs, or a dict of keyword inputs."""
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def measure_alignment(
    model: DFAModel,
    inputs: Any,
    targets: Any,
    loss_fn: Callable[[torch.Tensor, Any], torch.Tensor],
) -> dict[str, dict[str, float]]:
    """For each active point: mean and std over samples of cos(B_i e, c_i).

    One forward with the model's own weights (points act as identity, so the true BP signal
    c_i = dL/dh_i is available), then one ``autograd.grad``; no copy of the model. A sample is
    one index of the leading dim (an example, a node, or a sequence).
    """
    engine = model._engine
    with torch.enable_grad(), engine.alignment_pass():
        loss = loss_fn(call_model(model, inputs), targets)
        recorded = engine.take()
        output = engine.output
    if output is None:
        raise RuntimeError(f"{type(model).__name__}.forward never reached its OutputHook")
    if not recorded:
        return {}
    hidden = [h for _, h in recorded]
    grads = torch.autograd.grad(loss, [output, *hidden], allow_unused=True)
    points = [p for p, _ in recorded]
    signals = engine.project(grads[0].detach(), points, [h.shape for h in hidden])
    result = {}
    for point, dfa_signal, bp_signal in zip(points, signals, grads[1:]):
        if bp_signal is None:
            bp_signal = torch.zeros_like(dfa_signal)
        cos = F.cosine_similarity(
            dfa_signal.flatten(1).double(), bp_signal.flatten(1).double(), dim=1, eps=1e-30
        )
        result[point.point_name] = {
            "mean": cos.mean().item(),
            "std": cos.std(unbiased=False).item() if cos.numel() > 1 else 0.0,
        }
    return result
