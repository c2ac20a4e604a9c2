"""Alignment angles: 1 when the feedback equals the BP signal, ~0 for an unrelated matrix."""

import pytest
import torch
import torch.nn.functional as F

import dfazoo
from dfazoo.vision import MLP


def test_alignment_is_one_when_feedback_equals_bp_signal():
    model = MLP(20, [64], 5, seed=0)
    with torch.no_grad():
        # The BP signal at h is W_head^T e; making W_head = B_1^T makes it equal B_1 e.
        model.head.weight.copy_(model.feedback.slice_for(64).T)
    x, y = torch.randn(32, 20), torch.randint(0, 5, (32,))
    result = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    assert list(result) == ["body.3"]
    assert abs(result["body.3"]["mean"] - 1.0) < 1e-6
    assert result["body.3"]["std"] < 1e-6


def test_alignment_is_near_zero_for_an_unrelated_matrix():
    torch.manual_seed(0)
    model = MLP(20, [4096], 5, seed=1)
    x, y = torch.randn(64, 20), torch.randint(0, 5, (64,))
    result = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    assert abs(result["body.3"]["mean"]) < 0.1


def test_alignment_leaves_weights_and_grads_untouched_and_works_in_any_mode():
    model = MLP(20, [32, 32], 5, method="shallow")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(16, 20), torch.randint(0, 5, (16,))
    result = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    assert set(result) == {"body.3", "body.6"}
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert model.method == "shallow"
    # Training still works afterwards (no recorded tensors leak into the next forward).
    model.set_method("dfa")
    F.cross_entropy(model(x), y).backward()
    assert model.body[1].weight.grad is not None


def test_dfa_training_raises_alignment():
    torch.manual_seed(0)
    model = MLP(20, [64, 64], 5, seed=0)
    x, y = torch.randn(256, 20), torch.randint(0, 5, (256,))
    start = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    end = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    assert end["body.6"]["mean"] > start["body.6"]["mean"] + 0.2


def test_feature_mask_restricts_the_cosine_to_the_kept_features():
    model = MLP(20, [64], 5, seed=0)
    keep = torch.zeros(64)
    keep[:32] = 1.0
    with torch.no_grad():
        # BP signal = B_1 e on the kept features and -B_1 e on the others.
        sign = torch.where(keep.bool(), 1.0, -1.0)
        model.head.weight.copy_(model.feedback.slice_for(64).T * sign)
    x, y = torch.randn(32, 20), torch.randint(0, 5, (32,))
    full = dfazoo.measure_alignment(model, x, y, F.cross_entropy)
    kept = dfazoo.measure_alignment(model, x, y, F.cross_entropy, feature_masks={"body.3": keep})
    assert abs(kept["body.3"]["mean"] - 1.0) < 1e-6
    assert abs(full["body.3"]["mean"]) < 0.5


def test_feature_mask_errors_name_the_problem():
    model = MLP(20, [64], 5, seed=0)
    x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
    with pytest.raises(ValueError, match="has 10 entries; the point has 64"):
        dfazoo.measure_alignment(model, x, y, F.cross_entropy, feature_masks={"body.3": torch.ones(10)})
    with pytest.raises(ValueError, match="keeps no feature"):
        dfazoo.measure_alignment(model, x, y, F.cross_entropy, feature_masks={"body.3": torch.zeros(64)})
    with pytest.raises(ValueError, match="name no active feedback point"):
        dfazoo.measure_alignment(model, x, y, F.cross_entropy, feature_masks={"body.9": torch.ones(64)})
