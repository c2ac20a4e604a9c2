"""Graph architectures: shapes, config round trip, BP / DFA / shallow semantics, fast convs."""

import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn import ChebConv, DNAConv
from torch_geometric.transforms import TargetIndegree

from dfazoo.graph import DNA, GAE, GAT, GCN, ChebNet, SplineNet
from dfazoo.graph.node_models import sparse_dropout, target_indegree
from dfazoo.graph.projected import NodeProjectedDNAConv, ProjectFirstChebConv

SMALL = {
    "cheb": (ChebNet, {"input_dropout": 0.0}),
    "gcn": (GCN, {"input_dropout": 0.0}),
    "spline": (SplineNet, {"input_dropout": 0.0}),
    "gat": (GAT, {"hidden": 4, "heads": 2, "input_dropout": 0.0, "attention_dropout": 0.0}),
    "dna": (DNA, {"hidden": 16, "num_layers": 2, "heads": 2, "groups": 2, "attention_dropout": 0.0}),
}
FIRST_LAYER = {"cheb": "conv1", "gcn": "conv1", "spline": "conv1", "gat": "conv1", "dna": "convs.0"}
HEAD = {"cheb": "conv2", "gcn": "conv2", "spline": "conv2", "gat": "conv2", "dna": "lin2"}


def small_graph(n: int = 12, features: int = 6):
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(n, features, generator=gen)
    ring = torch.arange(n)
    edge_index = torch.cat(
        [
            torch.stack([ring, (ring + 1) % n]),
            torch.stack([(ring + 1) % n, ring]),
            torch.stack([ring, (ring + 5) % n]),
        ],
        dim=1,
    )
    y = torch.arange(n) % 3
    return x, edge_index, y


def build(arch: str, method: str, **extra):
    cls, kwargs = SMALL[arch]
    torch.manual_seed(0)
    return cls(in_channels=6, out_channels=3, method=method, seed=1, dropout=0.0, **kwargs, **extra)


def grads_after_step(model) -> dict[str, torch.Tensor | None]:
    x, edge_index, y = small_graph()
    model.train()
    model.zero_grad()
    torch.nn.functional.cross_entropy(model(x, edge_index), y).backward()
    return {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("arch", list(SMALL))
def test_forward_shape_and_config_round_trip(arch, tmp_path):
    model = build(arch, "dfa").eval()
    x, edge_index, _ = small_graph()
    out = model(x, edge_index)
    assert out.shape == (12, 3)
    model.save_pretrained(tmp_path)
    loaded = type(model).from_pretrained(tmp_path).eval()
    torch.testing.assert_close(loaded(x, edge_index), out)
    assert loaded.method == "dfa"


@pytest.mark.parametrize("arch", list(SMALL))
def test_shallow_trains_only_the_output_layer(arch):
    grads = grads_after_step(build(arch, "shallow"))
    for name, grad in grads.items():
        if name.startswith(HEAD[arch]):
            assert grad is not None and grad.abs().sum() > 0, name
        else:
            assert grad is None or grad.abs().sum() == 0, name


@pytest.mark.parametrize("arch", list(SMALL))
def test_dfa_updates_hidden_layers_differently_from_bp(arch):
    dfa = grads_after_step(build(arch, "dfa"))
    bp = grads_after_step(build(arch, "bp"))
    hidden = [n for n in dfa if n.startswith(FIRST_LAYER[arch]) and dfa[n] is not None]
    assert hidden and all(dfa[n].abs().sum() > 0 for n in hidden)
    assert any(not torch.allclose(dfa[n], bp[n]) for n in hidden)
    for name in dfa:  # the output layer gets its true gradient under both methods
        if name.startswith(HEAD[arch]):
            torch.testing.assert_close(dfa[name], bp[name])


def test_gcn_dfa_gradient_is_the_projected_error():
    """conv1's DFA gradient equals backprop of (B e) placed at the hidden point, per node."""
    model = build("gcn", "dfa", feedback_init="principled")
    x, edge_index, y = small_graph()
    got = grads_after_step(model)["conv1.lin.weight"]
    model.zero_grad()
    h = model.hidden(x, edge_index)
    logits = model.conv2(h.detach().requires_grad_(), edge_index)
    error = torch.autograd.grad(torch.nn.functional.cross_entropy(logits, y), logits)[0]
    b = model.feedback_matrices()["point"]
    (h * (error @ b.t())).sum().backward()
    torch.testing.assert_close(got, model.conv1.lin.weight.grad)


def test_gae_feedback_targets_the_embedding():
    torch.manual_seed(0)
    model = GAE(in_channels=6, latent=4, method="dfa")
    assert model.feedback.error_size == 4 and model.point.size == 8
    x, edge_index, _ = small_graph()
    assert model(x, edge_index).shape == (12, 4)


def test_project_first_cheb_equals_pyg():
    x, edge_index, _ = small_graph()
    for k in (1, 2, 3):
        torch.manual_seed(k)
        ref = ChebConv(6, 4, K=k)
        fast = ProjectFirstChebConv(6, 4, K=k)
        fast.load_state_dict(ref.state_dict())
        torch.testing.assert_close(fast(x, edge_index), ref(x, edge_index))


def test_node_projected_dna_equals_pyg_with_gradients():
    _, edge_index, _ = small_graph()
    torch.manual_seed(0)
    ref = DNAConv(16, heads=4, groups=2)
    fast = NodeProjectedDNAConv(16, heads=4, groups=2)
    fast.load_state_dict(ref.state_dict())
    history = torch.randn(12, 3, 16, requires_grad=True)
    out_ref = ref(history, edge_index)
    (g_ref,) = torch.autograd.grad(out_ref.square().sum(), history)
    out_fast = fast(history, edge_index)
    (g_fast,) = torch.autograd.grad(out_fast.square().sum(), history)
    torch.testing.assert_close(out_fast, out_ref)
    torch.testing.assert_close(g_fast, g_ref)


def test_gat_receives_feedback_at_the_top_of_its_attention_layer():
    model = build("gat", "dfa")
    assert [p.size for p in model.feedback_points().values()] == [8]


def test_sparse_dropout_scales_kept_entries_and_keeps_zeros():
    torch.manual_seed(0)
    x = (torch.rand(50, 40) < 0.1).float() * torch.rand(50, 40)
    out = sparse_dropout(x, 0.5, training=True)
    assert torch.all(out[x == 0] == 0)
    kept = out[x != 0] != 0
    torch.testing.assert_close(out[x != 0][kept], 2.0 * x[x != 0][kept])
    assert 0 < kept.sum() < kept.numel()
    assert sparse_dropout(x, 0.5, training=False) is x


def test_spline_pseudo_coordinates_match_pyg_target_indegree():
    _, edge_index, _ = small_graph()
    data = TargetIndegree()(Data(edge_index=edge_index, num_nodes=12))
    torch.testing.assert_close(target_indegree(edge_index, 12), data.edge_attr)
