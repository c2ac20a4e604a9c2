"""The DFA Transformer LM: placements, token-shared feedback, and what each method trains."""

import pytest
import torch
import torch.nn.functional as F

from dfazoo.nlp import TransformerLM

VOCAB, T = 11, 6


TINY = {"d_model": 8, "n_layers": 2, "n_heads": 2, "d_ff": 16, "max_len": T, "dropout": 0.0}


def _lm(method: str = "dfa", placement: str = "macro") -> TransformerLM:
    torch.manual_seed(0)
    return TransformerLM(VOCAB, method=method, placement=placement, **TINY)


def _loss(model: TransformerLM) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    tokens = torch.randint(0, VOCAB, (3, T), generator=g)
    targets = torch.randint(0, VOCAB, (3, T), generator=g)
    out = model(tokens)
    assert out.shape == (3, T, VOCAB)
    return F.cross_entropy(out.reshape(-1, VOCAB), targets.reshape(-1))


def test_macro_is_one_point_per_block_micro_one_after_every_layer():
    assert list(_lm(placement="macro").feedback_points()) == ["blocks.0.point", "blocks.1.point"]
    micro = list(_lm(placement="micro").feedback_points())
    assert micro[:4] == [
        "blocks.0.attn_point",
        "blocks.0.attn_out_point",
        "blocks.0.ff_point",
        "blocks.0.point",
    ]
    assert len(micro) == 8
    # The matrix covers the widest point (the feed-forward hidden layer) in both placements.
    assert _lm(placement="macro").feedback.matrix.shape == (16, VOCAB)


def test_bp_mode_equals_the_plain_network():
    bp = _lm("bp", "micro")
    _loss(bp).backward()
    plain = _lm("dfa", "micro")
    for point in plain.feedback_points(active_only=False).values():
        point.active = False  # every point an identity: plain backprop through the whole net
    _loss(plain).backward()
    for (name, a), b in zip(bp.named_parameters(), plain.parameters()):
        torch.testing.assert_close(a.grad, b.grad, msg=name)


@pytest.mark.parametrize("placement", ["macro", "micro"])
def test_dfa_cuts_backprop_between_feedback_points(placement):
    bp, dfa = _lm("bp", placement), _lm("dfa", placement)
    _loss(bp).backward()
    _loss(dfa).backward()
    # The head gets the true gradient in both; the blocks get DFA signals instead.
    torch.testing.assert_close(bp.head.weight.grad, dfa.head.weight.grad)
    assert not torch.allclose(bp.blocks[0].ff_in.weight.grad, dfa.blocks[0].ff_in.weight.grad)
    # Every trainable block weight still learns.
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in dfa.blocks.parameters())


def test_micro_feeds_the_feed_forward_input_layer_directly():
    """In micro, ff_in's update is (B_ff e) * gelu'(a) times its input: eq. 3 at the hidden point."""
    model = _lm("dfa", "micro")
    captured = {}
    block = model.blocks[1]
    block.ff_in.register_forward_hook(lambda m, i, o: captured.update(inp=i[0].detach(), pre=o.detach()))
    out_holder = {}
    model.output_hook.register_forward_hook(lambda m, i, o: out_holder.update(out=o))
    loss = _loss(model)
    out_holder["out"].retain_grad()
    loss.backward()
    e = out_holder["out"].grad.reshape(-1, VOCAB)
    signal = (e @ model.feedback.slice_for(16).T).reshape(3, T, 16)
    pre = captured["pre"].requires_grad_()
    gelu_grad = torch.autograd.grad(F.gelu(pre), pre, signal)[0]
    expected = gelu_grad.reshape(-1, 16).T @ captured["inp"].reshape(-1, 8)
    torch.testing.assert_close(block.ff_in.weight.grad, expected)


def test_shallow_trains_only_the_head():
    model = _lm("shallow", "micro")
    _loss(model).backward()
    assert model.head.weight.grad is not None
    assert all(p.grad is None for p in model.blocks.parameters())


def test_post_ln_blocks_normalise_each_sub_layer_output_and_do_not_export():
    torch.manual_seed(0)
    model = TransformerLM(VOCAB, post_ln=True, **TINY).eval()
    seen = []
    model.blocks[0].point.register_forward_hook(lambda m, args, out: seen.append(out))
    _loss(model).backward()
    block_out = seen[0]  # post-LN: every position of a block's output has zero mean, unit variance
    torch.testing.assert_close(block_out.mean(-1), torch.zeros(block_out.shape[:-1]), atol=1e-5, rtol=0)
    assert all(p.grad is not None for p in model.blocks.parameters())
    pre = TransformerLM(VOCAB, **TINY)
    pre.load_state_dict(model.state_dict())
    assert not torch.allclose(
        pre(torch.zeros(1, T, dtype=torch.long)), model(torch.zeros(1, T, dtype=torch.long))
    )
    from dfazoo.nlp.export import to_transformers

    with pytest.raises(ValueError, match="maps onto GPT-1 .* with final_norm=False"):
        to_transformers(model)
