"""The shared feedback matrix: formula, seeding, persistence, dtypes, placement, bottleneck."""

import io
import math

import pytest
import torch
import torch.nn.functional as F

from dfazoo.core import FeedbackMatrix, feedback_memory_bytes
from dfazoo.vision import MLP


def test_principled_slicing_and_rescaling_formula():
    fb = FeedbackMatrix(l_max=50, error_size=10, init="principled", seed=7)
    gen = torch.Generator().manual_seed(7)
    u = torch.randn(50, 10, generator=gen)
    b = u / math.sqrt(50 * 10)
    torch.testing.assert_close(fb.matrix, b)
    torch.testing.assert_close(fb.slice_for(20), math.sqrt(50 / 20) * b[:20])
    # Every slice has per-entry variance 1 / (l_i * e): it is exactly u[:l_i] / sqrt(l_i * e).
    for rows in (1, 20, 50):
        torch.testing.assert_close(fb.slice_for(rows), u[:rows] / math.sqrt(rows * 10))


def test_uniform2020_variant_and_no_norm():
    fb = FeedbackMatrix(40, 5, init="uniform2020", seed=1)
    uniform = torch.rand(40, 5, generator=torch.Generator().manual_seed(1)) * 2 - 1  # U(-1, 1)
    torch.testing.assert_close(fb.matrix, uniform)
    torch.testing.assert_close(fb.slice_for(10), fb.matrix[:10] / math.sqrt(40))
    raw = FeedbackMatrix(40, 5, init="principled", seed=1, normalize=False)
    torch.testing.assert_close(raw.slice_for(10), raw.matrix[:10])
    with pytest.raises(ValueError, match="feedback_init"):
        FeedbackMatrix(4, 2, init="gaussian")


def test_same_seed_same_matrix_whatever_the_global_rng():
    torch.manual_seed(0)
    a = MLP(10, [16, 8], 3, seed=5).feedback.matrix
    torch.manual_seed(123)
    torch.rand(1000)
    b = MLP(10, [16, 8], 3, seed=5).feedback.matrix
    c = MLP(10, [16, 8], 3, seed=6).feedback.matrix
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_feedback_matrices_are_the_used_slices():
    model = MLP(10, [16, 8], 3, seed=2)
    mats = model.feedback_matrices()
    assert [m.shape for m in mats.values()] == [(16, 3), (8, 3)]
    torch.testing.assert_close(list(mats.values())[1], model.feedback.slice_for(8))


def _train(model, steps, opt):
    gen = torch.Generator().manual_seed(9)
    for _ in range(steps):
        x, y = torch.randn(16, 10, generator=gen), torch.randint(0, 3, (16,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()


def test_state_dict_round_trip_and_identical_continuation():
    torch.manual_seed(0)
    model = MLP(10, [16, 16], 3, seed=4, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    _train(model, 3, opt)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)
    state, opt_state = saved["model"], saved["opt"]
    assert "feedback.matrix" in state

    torch.manual_seed(99)  # a different global RNG must not matter
    clone = MLP(10, [16, 16], 3, seed=4)
    clone.load_state_dict(state)
    clone_opt = torch.optim.Adam(clone.parameters(), lr=1e-2)
    clone_opt.load_state_dict(opt_state)
    for key, value in clone.state_dict().items():
        assert torch.equal(value, state[key]), key

    _train(model, 3, opt)
    _train(clone, 3, clone_opt)
    for (name, p), q in zip(model.named_parameters(), clone.parameters()):
        assert torch.equal(p, q), name


def test_bf16_autocast_and_float64():
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    model = MLP(10, [16, 16], 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = F.cross_entropy(model(x), y)
    loss.backward()
    assert model.body[1].weight.grad.dtype == torch.float32
    assert torch.isfinite(model.body[1].weight.grad).all()

    model64 = MLP(10, [16, 16], 3).double()
    assert model64.feedback.matrix.dtype == torch.float64
    F.cross_entropy(model64(x.double()), y).backward()
    assert model64.body[1].weight.grad.dtype == torch.float64


def test_placement_selects_tagged_points():
    from dfazoo.core import DFAModel, FeedbackPoint, OutputHook

    class Blocks(DFAModel):
        arch_name = "test-blocks"

        def __init__(self, placement="macro", method="dfa", seed=0):
            super().__init__()
            self.inner = torch.nn.Linear(4, 4)
            self.sub = FeedbackPoint(4, tag="sublayer")
            self.outer = torch.nn.Linear(4, 4)
            self.block = FeedbackPoint(4, tag="block")
            self.head = torch.nn.Linear(4, 2)
            self.hook = OutputHook()
            self.setup_feedback(2, method=method, placement=placement, seed=seed)

        def forward(self, x):
            h = self.block(torch.tanh(self.outer(self.sub(torch.tanh(self.inner(x))))))
            return self.hook(self.head(h))

    macro = Blocks("macro")
    assert list(macro.feedback_points()) == ["block"]
    micro = Blocks("micro")
    assert list(micro.feedback_points()) == ["sub", "block"]
    assert torch.equal(macro.feedback.matrix, micro.feedback.matrix)
    x, y = torch.randn(5, 4), torch.randint(0, 2, (5,))
    F.cross_entropy(macro(x), y).backward()
    macro_inner = macro.inner.weight.grad.clone()
    micro.load_state_dict(macro.state_dict())
    F.cross_entropy(micro(x), y).backward()
    # Macro backpropagates through `outer` into `inner`; micro feeds `inner` directly.
    assert not torch.allclose(macro_inner, micro.inner.weight.grad)
    with pytest.raises(ValueError, match="placement"):
        macro.set_placement("nano")


def test_bottleneck_keeps_only_b_neurons_and_is_saved():
    model = MLP(10, [16, 16, 16], 3, bottleneck_layer=2, bottleneck_keep=5, seed=3)
    x, y = torch.randn(8, 10), torch.randint(0, 3, (8,))
    F.cross_entropy(model(x), y).backward()
    grad = model.body[4].weight.grad  # layer 2's linear
    assert int((grad.abs().sum(1) > 0).sum()) == 5
    mask = model.state_dict()["body.6.mask"]
    assert int(mask.sum()) == 5
    again = MLP(10, [16, 16, 16], 3, bottleneck_layer=2, bottleneck_keep=5, seed=3)
    assert torch.equal(again.state_dict()["body.6.mask"], mask)


def test_feedback_memory_of_unique_matrix_against_per_layer():
    mem = feedback_memory_bytes([100, 50, 20], error_size=10)
    assert mem == {"unique": 100 * 10 * 4, "per_layer": 170 * 10 * 4}
