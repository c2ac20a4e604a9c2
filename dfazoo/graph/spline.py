"""SplineConv (Fey et al. 2018) with B-splines of degree 1, in plain torch.

PyG 2.8's ``SplineConv`` needs ``pyg-lib``'s compiled ``spline_basis``/``spline_weighting``,
which PyPI does not ship, so the basis is computed here. Constructor arguments, parameter
shapes, initialisation and semantics follow ``torch_geometric.nn.SplineConv``:

    x'_i = aggr_{j in N(i)} x_j . h(e_ij) + W_root x_i + b,
    h(u) = sum_k B_k(u) W_k,

where B_k are the products over pseudo-coordinate dims of the degree-1 B-spline basis
functions on ``kernel_size`` knots (open splines span [0, 1] with ``kernel_size - 1``
intervals, closed ones wrap around with ``kernel_size`` intervals).
"""

from __future__ import annotations

import itertools

import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing
from torch_geometric.nn.dense.linear import Linear
from torch_geometric.nn.inits import uniform, zeros


def linear_spline_basis(pseudo: Tensor, kernel_size: Tensor, is_open_spline: Tensor) -> tuple[Tensor, Tensor]:
    """Degree-1 basis of ``pseudo`` (E, dim) in [0, 1].

    Returns ``(basis, weight_index)``, both (E, 2**dim): the non-zero basis products and the
    flat index (dim 0 fastest) of the kernel weight each multiplies.
    """
    if pseudo.dim() == 1:
        pseudo = pseudo.unsqueeze(-1)
    intervals = kernel_size - is_open_spline.long()
    v = pseudo * intervals.to(pseudo.dtype)
    lower = v.floor()
    frac = v - lower
    lower = lower.long()
    strides = torch.cumprod(torch.cat([kernel_size.new_ones(1), kernel_size[:-1]]), 0)
    basis, index = [], []
    for corner in itertools.product((0, 1), repeat=pseudo.size(1)):
        offset = torch.tensor(corner, device=pseudo.device)
        b = torch.where(offset.bool(), frac, 1.0 - frac).prod(dim=1)
        k = ((lower + offset) % kernel_size * strides).sum(dim=1)
        basis.append(b)
        index.append(k)
    return torch.stack(basis, dim=1), torch.stack(index, dim=1)


class SplineConv(MessagePassing):
    """Drop-in for ``torch_geometric.nn.SplineConv`` restricted to ``degree=1``."""

    def __init__(
        self,
        in_channels: int | tuple[int, int],
        out_channels: int,
        dim: int,
        kernel_size: int | list[int],
        is_open_spline: bool | list[bool] = True,
        degree: int = 1,
        aggr: str = "mean",
        root_weight: bool = True,
        bias: bool = True,
        **kwargs,
    ) -> None:
        super().__init__(aggr=aggr, **kwargs)
        if degree != 1:
            raise NotImplementedError(f"degree={degree}: this SplineConv implements degree 1 only")
        sizes = [kernel_size] * dim if isinstance(kernel_size, int) else list(kernel_size)
        opens = [is_open_spline] * dim if isinstance(is_open_spline, bool) else list(is_open_spline)
        if len(sizes) != dim or len(opens) != dim:
            raise ValueError(f"kernel_size and is_open_spline need {dim} entries (dim={dim})")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.dim, self.degree, self.root_weight = dim, degree, root_weight
        self.register_buffer("kernel_size", torch.tensor(sizes, dtype=torch.long))
        self.register_buffer("is_open_spline", torch.tensor(opens, dtype=torch.uint8))
        src, dst = (in_channels, in_channels) if isinstance(in_channels, int) else in_channels
        self.K = int(self.kernel_size.prod())
        self.weight = nn.Parameter(torch.empty(self.K, src, out_channels))
        if root_weight:
            self.lin = Linear(dst, out_channels, bias=False, weight_initializer="uniform")
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        uniform(self.weight.size(0) * self.weight.size(1), self.weight)
        if self.root_weight:
            self.lin.reset_parameters()
        zeros(self.bias)

    def forward(
        self, x: Tensor | tuple[Tensor, Tensor | None], edge_index: Tensor, edge_attr: Tensor
    ) -> Tensor:
        x_src, x_dst = (x, x) if isinstance(x, Tensor) else x
        # The message is linear in x_j: transform every node by all K kernels once, then
        # gather per edge, instead of multiplying per edge.
        transformed = torch.einsum("ni,kio->nko", x_src, self.weight).flatten(1)
        basis, index = linear_spline_basis(edge_attr, self.kernel_size, self.is_open_spline)
        size = (x_src.size(0), x_dst.size(0) if x_dst is not None else x_src.size(0))
        out = self.propagate(edge_index, x=transformed, basis=basis, index_k=index, size=size)
        if x_dst is not None and self.root_weight:
            out = out + self.lin(x_dst)
        if self.bias is not None:
            out = out + self.bias
        return out

    def message(self, x_j: Tensor, basis: Tensor, index_k: Tensor) -> Tensor:
        per_kernel = x_j.view(-1, self.K, self.out_channels)
        picked = per_kernel.gather(1, index_k.unsqueeze(-1).expand(-1, -1, self.out_channels))
        return (basis.unsqueeze(-1) * picked).sum(dim=1)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.in_channels}, {self.out_channels}, dim={self.dim})"
