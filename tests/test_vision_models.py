import pytest
import torch
import torch.nn.functional as F

from dfazoo import measure_alignment
from dfazoo.core import feedback_memory_bytes
from dfazoo.vision import CNN, MLP, VGG16, vgg16_point_sizes


def grads(model, x, y):
    model.zero_grad()
    F.cross_entropy(model(x), y).backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_cnn_points_on_conv_outputs_and_dfa_trains_every_layer():
    torch.manual_seed(0)
    model = CNN(channels=(4, 6, 8), image_size=16, method="dfa")
    sizes = [p.size for p in model.feedback_points().values()]
    assert sizes == [4 * 16 * 16, 6 * 8 * 8, 8 * 4 * 4]
    x, y = torch.randn(5, 3, 16, 16), torch.randint(0, 10, (5,))
    assert model(x).shape == (5, 10)
    dfa = grads(model, x, y)
    bp = grads(model.set_method("bp"), x, y)
    assert set(dfa) == set(bp) and all(g.abs().sum() > 0 for g in dfa.values())
    torch.testing.assert_close(dfa["classifier.weight"], bp["classifier.weight"])
    assert not torch.allclose(dfa["features.0.weight"], bp["features.0.weight"])
    shallow = grads(model.set_method("shallow"), x, y)
    assert set(shallow) == {"classifier.weight", "classifier.bias"}


def test_cnn_alignment_reports_every_conv_point():
    torch.manual_seed(0)
    model = CNN(channels=(4, 4, 4), image_size=8, batch_norm=True, dropout=0.1).eval()
    x, y = torch.randn(6, 3, 8, 8), torch.randint(0, 10, (6,))
    align = measure_alignment(model, x, y, F.cross_entropy)
    assert list(align) == ["features.3", "features.9", "features.15"]
    # The same cosines computed by hand: B_i e (the feedback slice applied to dL/dy) against the
    # BP gradient dL/dh_i, captured with forward hooks in bp mode.
    model.set_method("bp")
    hidden = {}
    for name in align:
        model.get_submodule(name).register_forward_hook(lambda m, i, o, n=name: hidden.__setitem__(n, o))
    out = model(x)
    e, *bp = torch.autograd.grad(F.cross_entropy(out, y), [out, *hidden.values()])
    for (name, h), c in zip(hidden.items(), bp):
        dfa = (e @ model.feedback.slice_for(h[0].numel()).T).reshape(h.shape)
        cos = F.cosine_similarity(dfa.flatten(1).double(), c.flatten(1).double(), dim=1)
        assert align[name]["mean"] == pytest.approx(cos.mean().item(), abs=1e-9)
        assert align[name]["std"] == pytest.approx(cos.std(unbiased=False).item(), abs=1e-9)


def test_vgg16_has_15_points_matching_the_size_formula():
    torch.manual_seed(0)
    model = VGG16(image_size=32, width_mult=1 / 16, fc_width=32)
    sizes = [p.size for p in model.feedback_points().values()]
    assert len(model.conv_layers()) == 13 and len(sizes) == 15
    assert sizes == vgg16_point_sizes(32, 1 / 16, 32)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert model.feedback.matrix.shape == (max(sizes), 10)


def test_vgg16_imagenet_feedback_memory():
    sizes = vgg16_point_sizes(224, 1.0, 4096)
    assert max(sizes) == 64 * 224 * 224 and sizes[-1] == 4096 and len(sizes) == 15
    mem = feedback_memory_bytes(sizes, 1000)
    assert mem["unique"] == 64 * 224 * 224 * 1000 * 4
    assert mem["per_layer"] > 4 * mem["unique"]


def test_bottleneck_freezes_all_but_b_neurons_of_layer_2():
    torch.manual_seed(0)
    model = MLP(20, [16, 16, 16], 10, bottleneck_layer=2, bottleneck_keep=3, seed=1)
    g = grads(model, torch.randn(8, 20), torch.randint(0, 10, (8,)))
    layer2 = [n for n in g if n.endswith("weight")][1]
    moving_rows = (g[layer2].abs().sum(1) > 0).sum().item()
    assert moving_rows == 3


def test_cnn_points_after_pooling_route_the_feedback_through_the_pool():
    torch.manual_seed(0)
    model = CNN(channels=(4, 6, 8), image_size=16, method="dfa", feedback_after="pool")
    assert [p.size for p in model.feedback_points().values()] == [4 * 8 * 8, 6 * 4 * 4, 8 * 2 * 2]
    x, y = torch.randn(5, 3, 16, 16), torch.randint(0, 10, (5,))
    dfa = grads(model, x, y)
    # Closed form for the last block: B_3 e delivered at the pooled output, backpropagated only
    # through max-pooling and tanh to conv3's weight.
    with torch.no_grad():
        e = (F.softmax(model(x), -1) - F.one_hot(y, 10)) / len(y)
        lower = model.features[:8](x)
    conv, act, pool = model.features[8], model.features[9], model.features[10]
    pooled = pool(act(conv(lower)))
    signal = (e @ model.feedback_matrices()["features.11"].T).view_as(pooled)
    (expected,) = torch.autograd.grad(pooled, conv.weight, signal)
    torch.testing.assert_close(dfa["features.8.weight"], expected)


def test_cnn_dropout_keeps_the_block_output_scale_of_evaluation():
    # Dropout after the pooling: the block output has the same expected size in training as in
    # evaluation. Before the pooling, the max over rescaled survivors would inflate it ~1.5x.
    torch.manual_seed(0)
    model = CNN(channels=(8, 8, 8), image_size=16, dropout=0.5, feedback_after="pool", method="bp")
    captured: list[torch.Tensor] = []
    first_point = next(iter(model.feedback_points().values()))
    first_point.register_forward_hook(lambda module, args, out: captured.append(out.detach()))
    x = torch.randn(64, 3, 16, 16)
    model.eval()
    model(x)
    model.train()
    for _ in range(20):
        model(x)
    eval_mean = captured[0].abs().mean()
    train_mean = torch.stack([c.abs().mean() for c in captured[1:]]).mean()
    assert train_mean / eval_mean == pytest.approx(1.0, abs=0.05)


def test_cnn_rejects_an_unknown_feedback_position():
    with pytest.raises(ValueError, match="feedback_after='conv'"):
        CNN(feedback_after="conv")
