"""Non-probabilistic graph autoencoder (Kipf & Welling 2016) with a 2-layer GCN encoder.

The model is the encoder: ``(x, edge_index) -> z``; the DFA error is dL/dz (the embedding).
Decoding (inner product) and the reconstruction loss live in the link-prediction task.
"""

from __future__ import annotations

from typing import Any

from torch_geometric.nn import GCNConv

from dfazoo.graph.node_models import TwoLayerGraphNet


class GAE(TwoLayerGraphNet):
    """``GCNConv(in, hidden) -> ReLU -> (dropout) -> point -> GCNConv(hidden, latent) -> z``;
    ``hidden`` defaults to ``2 * latent``. ``**feedback``: as the node models'."""

    arch_name = "gae"

    def __init__(
        self,
        in_channels: int,
        latent: int = 16,
        hidden: int | None = None,
        dropout: float = 0.0,
        **feedback: Any,
    ) -> None:
        hidden = 2 * latent if hidden is None else hidden
        convs = (GCNConv(in_channels, hidden), GCNConv(hidden, latent))
        super().__init__(convs, hidden, latent, dropout, input_dropout=0.0, **feedback)
