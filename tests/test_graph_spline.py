"""SplineConv (degree-1 B-splines, plain torch) against a dense evaluation of its formula."""

import pytest
import torch

from dfazoo.graph.spline import SplineConv


def hat_basis(u: float, size: int, is_open: bool) -> torch.Tensor:
    """Degree-1 B-spline weights of the ``size`` knots at coordinate ``u`` in [0, 1]."""
    intervals = size - 1 if is_open else size
    pos = u * intervals
    weights = torch.zeros(size, dtype=torch.float64)
    for k in range(size):
        dist = abs(pos - k)
        if not is_open:
            dist = min(dist, abs(pos - k - size), abs(pos - k + size))
        weights[k] = max(0.0, 1.0 - dist)
    return weights


def dense_spline_conv(conv: SplineConv, x, edge_index, pseudo) -> torch.Tensor:
    """x'_i = mean_j sum_k B_k(e_ij) x_j W_k + x_i W_root + b, the kernel index flattened with
    dim 0 fastest, evaluated edge by edge."""
    sizes = conv.kernel_size.tolist()
    opens = [bool(o) for o in conv.is_open_spline.tolist()]
    weight = conv.weight.double()
    out = torch.zeros(x.size(0), conv.out_channels, dtype=torch.float64)
    count = torch.zeros(x.size(0), dtype=torch.float64)
    for e, (j, i) in enumerate(edge_index.t().tolist()):
        basis = torch.ones(1, dtype=torch.float64)
        for d in reversed(range(len(sizes))):
            basis = torch.kron(basis, hat_basis(float(pseudo[e, d]), sizes[d], opens[d]))
        kernel = (basis.view(-1, 1, 1) * weight).sum(0)
        out[i] += x[j].double() @ kernel
        count[i] += 1
    out = out / count.clamp(min=1).unsqueeze(-1)
    out = out + x.double() @ conv.lin.weight.double().t()
    return out + conv.bias.double()


@pytest.mark.parametrize(
    ("dim", "kernel_size", "is_open"),
    [(1, 2, True), (1, 5, True), (1, 4, False), (2, [3, 4], [True, False])],
)
def test_matches_dense_formula(dim, kernel_size, is_open):
    torch.manual_seed(0)
    x = torch.randn(7, 5)
    edge_index = torch.tensor([[0, 1, 2, 3, 4, 5, 6, 1, 2, 6], [1, 0, 0, 2, 2, 4, 5, 6, 6, 3]])
    pseudo = torch.rand(edge_index.size(1), dim)
    pseudo[0] = 1.0  # the right end of the open interval
    pseudo[1] = 0.0
    conv = SplineConv(5, 3, dim=dim, kernel_size=kernel_size, is_open_spline=is_open)
    with torch.no_grad():
        conv.bias.normal_()
    expected = dense_spline_conv(conv, x, edge_index, pseudo)
    torch.testing.assert_close(conv(x, edge_index, pseudo).double(), expected, rtol=1e-5, atol=1e-5)


def test_parameters_follow_pyg_layout_and_train():
    conv = SplineConv(4, 6, dim=2, kernel_size=[2, 3])
    assert conv.weight.shape == (6, 4, 6)
    assert conv.lin.weight.shape == (6, 4)
    x = torch.randn(3, 4, requires_grad=True)
    edge_index = torch.tensor([[0, 1, 2], [1, 2, 0]])
    conv(x, edge_index, torch.rand(3, 2)).sum().backward()
    assert conv.weight.grad.abs().sum() > 0 and x.grad.abs().sum() > 0


def test_only_degree_one():
    with pytest.raises(NotImplementedError, match="degree 1"):
        SplineConv(4, 4, dim=1, kernel_size=3, degree=2)
