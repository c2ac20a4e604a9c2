"""DFA, BP and shallow gradients of the core against closed forms and plain autograd."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook
from dfazoo.vision import MLP

SIZES = (12, [9, 7, 5], 4)


def _batch(n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(1)
    return torch.randn(n, SIZES[0], generator=gen), torch.randint(0, SIZES[2], (n,), generator=gen)


def _linears(model: MLP) -> list[nn.Linear]:
    return [m for m in model.body if isinstance(m, nn.Linear)]


def test_dfa_weight_gradients_match_eq3_closed_form():
    torch.manual_seed(0)
    model = MLP(*SIZES, activation="tanh", method="dfa", seed=3)
    x, y = _batch()
    F.cross_entropy(model(x), y).backward()

    # Closed form, eq. 3: dW_i = [(B_i e) * f'(a_i)] h_{i-1}^T, e = dL/dy.
    with torch.no_grad():
        hs, acts = [x], []
        for lin in _linears(model):
            acts.append(lin(hs[-1]))
            hs.append(torch.tanh(acts[-1]))
        logits = model.head(hs[-1])
        e = (logits.softmax(-1) - F.one_hot(y, SIZES[2])) / len(x)
        b_full = model.feedback.matrix
        for i, lin in enumerate(_linears(model)):
            size = lin.out_features
            b_i = math.sqrt(b_full.shape[0] / size) * b_full[:size]
            delta = (e @ b_i.T) * (1 - torch.tanh(acts[i]) ** 2)
            torch.testing.assert_close(lin.weight.grad, delta.T @ hs[i])
            torch.testing.assert_close(lin.bias.grad, delta.sum(0))
        torch.testing.assert_close(model.head.weight.grad, e.T @ hs[-1])


def test_bp_mode_equals_plain_autograd():
    torch.manual_seed(0)
    model = MLP(*SIZES, activation="relu", method="bp")
    x, y = _batch()
    F.cross_entropy(model(x), y).backward()
    got = {n: p.grad.clone() for n, p in model.named_parameters()}

    plain = nn.Sequential()
    for lin in _linears(model):
        plain.extend([lin, nn.ReLU()])
    plain.append(model.head)
    model.zero_grad()
    F.cross_entropy(plain(x), y).backward()
    for name, param in model.named_parameters():
        torch.testing.assert_close(got[name], param.grad, rtol=0, atol=0)


def test_shallow_trains_only_the_top_layer():
    model = MLP(*SIZES, method="shallow")
    x, y = _batch()
    F.cross_entropy(model(x), y).backward()
    for lin in _linears(model):
        assert lin.weight.grad is None and lin.bias.grad is None
    assert model.head.weight.grad is not None and model.head.weight.grad.abs().sum() > 0


def test_set_method_switches_a_built_model():
    model = MLP(*SIZES, method="shallow")
    model.set_method("dfa")
    x, y = _batch()
    F.cross_entropy(model(x), y).backward()
    assert all(lin.weight.grad is not None for lin in _linears(model))
    with pytest.raises(ValueError, match="unknown"):
        model.set_method("backprop")


def test_dfa_points_hand_on_tensors_that_do_not_require_grad():
    model = MLP(*SIZES, method="dfa")
    seen = []
    for point in model.feedback_points().values():
        point.register_forward_hook(lambda m, i, out: seen.append(out.requires_grad))
    model(_batch()[0])
    assert seen == [False, False, False]


def test_dfa_backward_skips_exactly_the_input_gradient_matmuls():
    """Counted FLOPs: DFA = BP - the input-gradient matmuls between points + one projection."""
    from torch.utils.flop_counter import FlopCounterMode

    n, (d_in, hidden, d_out) = 6, SIZES
    x, y = _batch(n)
    flops = {}
    for method in ("bp", "dfa"):
        model = MLP(*SIZES, method=method)
        with FlopCounterMode(display=False) as counter:
            F.cross_entropy(model(x), y).backward()
        flops[method] = counter.get_total_flops()
    widths = [d_in, *hidden, d_out]
    # BP computes dL/dh for every layer's input except the network input: n x out x in MACs each.
    input_grads = sum(2 * n * widths[i + 1] * widths[i] for i in range(1, len(widths) - 1))
    projection = 2 * n * d_out * max(hidden)
    assert flops["dfa"] == flops["bp"] - input_grads + projection


def test_sum_reduction_scales_hidden_signals_by_batch_size():
    x, y = _batch(8)
    grads = {}
    for reduction in ("mean", "sum"):
        torch.manual_seed(0)
        model = MLP(*SIZES, error_reduction=reduction)
        F.cross_entropy(model(x), y).backward()
        grads[reduction] = (_linears(model)[0].weight.grad, model.head.weight.grad)
    torch.testing.assert_close(grads["sum"][0], grads["mean"][0] * 8)
    torch.testing.assert_close(grads["sum"][1], grads["mean"][1])


class TokenNet(DFAModel):
    """(batch, seq, dim) tokens sharing one feedback matrix; ``pool`` makes the output per sequence."""

    arch_name = "test-token-net"

    def __init__(self, vocab=11, dim=6, classes=5, pool=False, method="dfa", seed=0):
        super().__init__()
        self.pool = pool
        self.embed = nn.Embedding(vocab, dim)
        self.mix = nn.Linear(dim, dim)
        self.point = FeedbackPoint(dim, shared_dims=2)
        self.head = nn.Linear(dim, classes)
        self.hook = OutputHook()
        self.setup_feedback(classes, method=method, seed=seed)

    def forward(self, tokens):
        h = self.point(torch.tanh(self.mix(self.embed(tokens))))
        out = self.head(h)
        return self.hook(out.mean(1) if self.pool else out)


def test_token_shapes_share_the_matrix_across_batch_and_sequence():
    torch.manual_seed(0)
    model = TokenNet()
    tokens = torch.randint(0, 11, (3, 4))
    targets = torch.randint(0, 5, (3, 4))
    logits = model(tokens)
    assert logits.shape == (3, 4, 5)
    F.cross_entropy(logits.reshape(-1, 5), targets.reshape(-1)).backward()
    with torch.no_grad():
        emb = model.embed(tokens)
        a = model.mix(emb)
        e = (model.head(torch.tanh(a)).softmax(-1) - F.one_hot(targets, 5)) / 12
        delta = (e @ model.feedback.slice_for(6).T) * (1 - torch.tanh(a) ** 2)
        expected = torch.einsum("btj,bti->ji", delta, emb)
    torch.testing.assert_close(model.mix.weight.grad, expected)


def test_point_with_more_positions_than_output_gets_broadcast_error():
    torch.manual_seed(0)
    model = TokenNet(pool=True)
    tokens = torch.randint(0, 11, (3, 4))
    target = torch.randint(0, 5, (3,))
    F.cross_entropy(model(tokens), target).backward()
    with torch.no_grad():
        emb = model.embed(tokens)
        a = model.mix(emb)
        e = (model.head(torch.tanh(a)).mean(1).softmax(-1) - F.one_hot(target, 5)) / 3
        signal = (e @ model.feedback.slice_for(6).T)[:, None, :]
        delta = signal * (1 - torch.tanh(a) ** 2)
        expected = torch.einsum("btj,bti->ji", delta, emb)
    torch.testing.assert_close(model.mix.weight.grad, expected)


def test_node_shapes_and_point_size_mismatch_is_named():
    model = MLP(5, [8], 3)
    nodes = torch.randn(30, 5)
    F.cross_entropy(model(nodes), torch.randint(0, 3, (30,))).backward()
    assert model.body[1].weight.grad.shape == (8, 5)
    model.body[3].size = 9
    with pytest.raises(RuntimeError, match="declared size 9"):
        F.cross_entropy(model(nodes), torch.randint(0, 3, (30,))).backward()
