"""Graph convolutional networks of the scaling paper (§3.2, Table 3), trained with BP or DFA.

Layouts follow PyTorch Geometric's Planetoid examples. Every model takes ``(x, edge_index)``
and returns the logits of every node. Nodes share the feedback matrix: a
``FeedbackPoint(size, shared_dims=1)`` on the (nodes, features) activations of each hidden
layer; attention layers receive their signal at their top (appendix D). Only DNAConv has
several hidden layers; for the two-layer nets ``macro`` and ``micro`` placements coincide.
Every model also takes ``**feedback``, the :class:`~dfazoo.core.FeedbackConfig` fields, with
``feedback_init`` defaulting to ``uniform2020``.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.utils import degree

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook
from dfazoo.graph.projected import NodeProjectedDNAConv, ProjectFirstChebConv
from dfazoo.graph.spline import SplineConv


def sparse_dropout(x: torch.Tensor, p: float, training: bool) -> torch.Tensor:
    """``F.dropout`` applied to the non-zero entries only: the same distribution for sparse
    bag-of-words features (zeros stay zero), and about 6x faster on Cora's 2708 x 1433 input."""
    if not training or p == 0.0:
        return x
    index = x.nonzero(as_tuple=True)
    out = torch.zeros_like(x)
    out[index] = F.dropout(x[index], p, True)
    return out


# The scaling paper's code draws the feedback matrix from U(-1, 1): every graph model's default.
FEEDBACK_DEFAULTS: dict[str, Any] = {"feedback_init": "uniform2020"}


class TwoLayerGraphNet(DFAModel):
    """``dropout -> conv1 -> act -> dropout -> point -> conv2 -> out``.

    Subclasses build ``conv1``/``conv2`` and hand them to this constructor with the hidden
    size; they may override :meth:`convolve` to pass extra per-edge inputs.
    """

    activation = staticmethod(F.relu)
    head_name = "conv2"
    feedback_defaults = FEEDBACK_DEFAULTS

    def __init__(
        self,
        convs: tuple[nn.Module, nn.Module],
        hidden_size: int,
        error_size: int,
        dropout: float,
        input_dropout: float,
        **feedback: Any,
    ) -> None:
        super().__init__()
        self.conv1, self.conv2 = convs
        self.dropout, self.input_dropout = float(dropout), float(input_dropout)
        self.point = FeedbackPoint(hidden_size, shared_dims=1)
        self.output_hook = OutputHook()
        self.setup_feedback(error_size, **feedback)

    def convolve(self, conv: nn.Module, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return conv(x, edge_index)

    def hidden(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        """Activations of the hidden layer (what Figure 2's t-SNE shows)."""
        x = sparse_dropout(x, self.input_dropout, self.training)
        return self.activation(self.convolve(self.conv1, x, edge_index))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = F.dropout(self.hidden(x, edge_index), self.dropout, self.training)
        return self.output_hook(self.convolve(self.conv2, self.point(h), edge_index))


class ChebNet(TwoLayerGraphNet):
    """Two ChebConv layers (Defferrard et al. 2016), Chebyshev order ``K``, ReLU."""

    arch_name = "cheb"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int = 16,
        K: int = 2,
        dropout: float = 0.5,
        input_dropout: float = 0.5,
        **feedback: Any,
    ) -> None:
        convs = (
            ProjectFirstChebConv(in_channels, hidden, K=K),
            ProjectFirstChebConv(hidden, out_channels, K=K),
        )
        super().__init__(convs, hidden, out_channels, dropout, input_dropout, **feedback)


class GCN(TwoLayerGraphNet):
    """Two GCNConv layers (Kipf & Welling 2017, "GraphConv" in the paper), ReLU."""

    arch_name = "gcn"

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int = 16,
        dropout: float = 0.5,
        input_dropout: float = 0.5,
        **feedback: Any,
    ) -> None:
        convs = (GCNConv(in_channels, hidden), GCNConv(hidden, out_channels))
        super().__init__(convs, hidden, out_channels, dropout, input_dropout, **feedback)


def target_indegree(edge_index: torch.Tensor, num_nodes: int) -> torch.Tensor:
    """Pseudo-coordinates of PyG's ``TargetIndegree``: in-degree of each edge's target / max."""
    deg = degree(edge_index[1], num_nodes)
    return (deg / deg.max().clamp(min=1))[edge_index[1]].unsqueeze(-1)


class SplineNet(TwoLayerGraphNet):
    """Two SplineConv layers (Fey et al. 2018) on 1-d degree pseudo-coordinates, ELU.

    The pseudo-coordinates are computed from ``edge_index`` inside the model, so the model
    needs only ``(x, edge_index)``.
    """

    arch_name = "spline"
    activation = staticmethod(F.elu)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int = 16,
        kernel_size: int = 2,
        dropout: float = 0.5,
        input_dropout: float = 0.5,
        **feedback: Any,
    ) -> None:
        convs = (
            SplineConv(in_channels, hidden, dim=1, kernel_size=kernel_size),
            SplineConv(hidden, out_channels, dim=1, kernel_size=kernel_size),
        )
        super().__init__(convs, hidden, out_channels, dropout, input_dropout, **feedback)

    def convolve(self, conv: nn.Module, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return conv(x, edge_index, target_indegree(edge_index, x.size(0)))


class GAT(TwoLayerGraphNet):
    """GATConv with ``heads`` x ``hidden`` (concatenated), ELU, then a 1-head output GATConv.

    ``attention_dropout`` acts on the attention coefficients inside both layers; ``dropout`` and
    ``input_dropout`` are the dedicated dropout layers.
    """

    arch_name = "gat"
    activation = staticmethod(F.elu)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int = 8,
        heads: int = 8,
        attention_dropout: float = 0.6,
        dropout: float = 0.6,
        input_dropout: float = 0.6,
        **feedback: Any,
    ) -> None:
        convs = (
            GATConv(in_channels, hidden, heads=heads, dropout=attention_dropout),
            GATConv(hidden * heads, out_channels, heads=1, concat=False, dropout=attention_dropout),
        )
        super().__init__(convs, hidden * heads, out_channels, dropout, input_dropout, **feedback)


class DNA(DFAModel):
    """Just Jump (Fey 2019): ``Linear -> ReLU``, then ``num_layers`` DNAConv blocks, each
    attending over the history of all previous layers' outputs, then ``Linear``.

    A feedback point follows the input projection and every DNA block (after its ReLU). A
    DNAConv has no hidden non-linearity inside (its attention acts on per-edge messages and
    gets its signal at the top of the block, appendix D), so ``micro`` equals ``macro``.
    """

    arch_name = "dna"
    head_name = "lin2"
    feedback_defaults = FEEDBACK_DEFAULTS

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        hidden: int = 128,
        num_layers: int = 5,
        heads: int = 8,
        groups: int = 16,
        attention_dropout: float = 0.8,
        dropout: float = 0.5,
        **feedback: Any,
    ) -> None:
        super().__init__()
        self.hidden_size, self.dropout = int(hidden), float(dropout)
        self.lin1 = nn.Linear(in_channels, hidden)
        self.point_in = FeedbackPoint(hidden, shared_dims=1)
        self.convs = nn.ModuleList(
            NodeProjectedDNAConv(hidden, heads=heads, groups=groups, dropout=attention_dropout)
            for _ in range(num_layers)
        )
        self.points = nn.ModuleList(FeedbackPoint(hidden, shared_dims=1) for _ in range(num_layers))
        self.lin2 = nn.Linear(hidden, out_channels)
        self.output_hook = OutputHook()
        self.setup_feedback(out_channels, **feedback)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = F.dropout(F.relu(self.lin1(x)), self.dropout, self.training)
        h = self.point_in(h)
        history = [h]
        for conv, point in zip(self.convs, self.points):
            h = point(F.relu(conv(torch.stack(history, dim=1), edge_index)))
            history.append(h)
        h = F.dropout(h, self.dropout, self.training)
        return self.output_hook(self.lin2(h))
