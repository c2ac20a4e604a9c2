"""Non-probabilistic graph autoencoder (Kipf & Welling 2016) with a 2-layer GCN encoder.

The model is the encoder: ``(x, edge_index) -> z``; the DFA error is dL/dz (the embedding).
Decoding (inner product) and the reconstruction loss live in the link-prediction task.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch_geometric.nn import GCNConv

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook


class GAE(DFAModel):
    """``GCNConv(in, 2*latent) -> ReLU -> point -> GCNConv(2*latent, latent) -> z``."""

    arch_name = "gae"

    def __init__(
        self,
        in_channels: int,
        latent: int = 16,
        hidden: int | None = None,
        dropout: float = 0.0,
        method: str = "dfa",
        placement: str = "macro",
        seed: int = 0,
        feedback_init: str = "uniform2020",
        feedback_norm: bool = True,
        error_reduction: str = "mean",
    ) -> None:
        super().__init__()
        hidden = 2 * latent if hidden is None else hidden
        self.dropout = float(dropout)
        self.conv1 = GCNConv(in_channels, hidden)
        self.point = FeedbackPoint(hidden, shared_dims=1)
        self.conv2 = GCNConv(hidden, latent)
        self.output_hook = OutputHook()
        self.setup_feedback(
            latent,
            method=method,
            placement=placement,
            feedback_init=feedback_init,
            feedback_norm=feedback_norm,
            seed=seed,
            error_reduction=error_reduction,
        )

    def hidden(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        return F.relu(self.conv1(x, edge_index))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = F.dropout(self.hidden(x, edge_index), self.dropout, self.training)
        return self.output_hook(self.conv2(self.point(h), edge_index))
