"""Alignment angles (principled paper eq. 6): cosine between B_i e and the BP signal c_i."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
    feature_masks: Mapping[str, torch.Tensor] | None = None,
) -> dict[str, dict[str, float]]:
    """For each active point: mean and std over samples of cos(B_i e, c_i).

    One forward with the model's own weights (points act as identity, so the true BP signal
    c_i = dL/dh_i is available), then one ``autograd.grad``; no copy of the model. A sample is
    one index of the leading dim (an example, a node, or a sequence).

    ``feature_masks`` maps a point name to a mask over its features (the trailing dims of one
    position): that point's cosine then covers only the features where the mask is non-zero,
    e.g. the neurons of a bottlenecked layer that keep their gradient (Figure 4).
    """
    masks = dict(feature_masks or {})
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
        mask = masks.pop(point.point_name, None)
        if mask is not None:
            keep = _feature_mask(mask, dfa_signal, point.shared_dims, point.point_name)
            positions = dfa_signal.shape[: point.shared_dims]
            dfa_signal = dfa_signal.reshape(*positions, -1)[..., keep]
            bp_signal = bp_signal.reshape(*positions, -1)[..., keep]
        cos = F.cosine_similarity(
            dfa_signal.flatten(1).double(), bp_signal.flatten(1).double(), dim=1, eps=1e-30
        )
        result[point.point_name] = {
            "mean": cos.mean().item(),
            "std": cos.std(unbiased=False).item() if cos.numel() > 1 else 0.0,
        }
    if masks:
        raise ValueError(
            f"feature_masks name no active feedback point: {sorted(masks)}; have {sorted(result)}"
        )
    return result


def _feature_mask(mask: torch.Tensor, signal: torch.Tensor, shared_dims: int, name: str) -> torch.Tensor:
    """The mask as a boolean over the flattened features of one position of ``signal``."""
    features = signal.shape[shared_dims:]
    if mask.numel() != features.numel():
        raise ValueError(
            f"feature mask for point {name!r} has {mask.numel()} entries; the point has "
            f"{features.numel()} features per position (shape {tuple(features)})"
        )
    keep = mask.reshape(-1).to(signal.device) != 0
    if not keep.any():
        raise ValueError(f"feature mask for point {name!r} keeps no feature")
    return keep
