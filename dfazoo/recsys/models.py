"""CTR models of the scaling paper (§3.1.2) composed from torchfm's layers, trained with BP or DFA.

Every model maps ``(batch, fields)`` int64 indices to the ``(batch, 1)`` click logit, the single
output whose error all feedback points share (one matrix). Placement: ``micro`` puts a point after
every hidden layer (each MLP layer ``Linear -> BN -> ReLU -> Dropout``, each cross layer);
``macro`` keeps one per sub-network, after its top layer (the MLP, the cross network, the
logarithmic layer), and the layers inside it learn by backpropagating that point's signal.

Embeddings (``embedding_feedback``): ``"point"`` puts a feedback point on the embedding table,
active in both placements, so they learn by DFA directly (DCN's default, the paper's DCN);
``"layer"``: they learn from the DFA signals of the layers reading them, backpropagated through
those layers only (AFN's default); ``"none"`` (DeepFM's default, the paper's DeepFM): in
``dfa``/``shallow`` mode the MLP reads them detached and they learn through the FM only.
Probes (validation AUC, DFA): AFN on ML-100K, 8 epochs: ``layer`` 0.770, ``point`` 0.704; DCN on
200k synthetic rows, 5 epochs: ``layer`` 0.693, ``point`` 0.616 (BP 0.718). In ``shallow``
mode only what no point cuts off learns: the output layer and the FM / linear parts.

The linear terms start at zero: torchfm's N(0, 1) start adds noise of std sqrt(fields) to the
logit, which Adam takes thousands of steps to remove (FM validation AUC on ML-100K after 8
epochs: 0.717 from torchfm's start, 0.760 from zero).

The constructor's ``fields`` (:mod:`dfazoo.recsys.fields`) is the field encoding, saved in
``config.json``: :meth:`CTRModel.score` scores raw records with it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torchfm.layer import (
    CrossNetwork,
    FactorizationMachine,
    FeaturesEmbedding,
    FeaturesLinear,
    MultiLayerPerceptron,
)
from torchfm.model.afn import LNN

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook
from dfazoo.recsys.fields import FieldEncoder


def _tags(count: int) -> list[str]:
    """The last point of a sub-network is its ``block`` point; the others are ``sublayer``."""
    return ["sublayer"] * (count - 1) + ["block"]


class PointedMLP(nn.Module):
    """torchfm MLP layers (``Linear -> BN -> ReLU -> Dropout``), each followed by a feedback point."""

    def __init__(self, input_dim: int, dims: Sequence[int], dropout: float) -> None:
        super().__init__()
        sizes = [input_dim, *dims]
        self.layers = nn.ModuleList(
            MultiLayerPerceptron(sizes[i], [sizes[i + 1]], dropout, output_layer=False)
            for i in range(len(dims))
        )
        self.points = nn.ModuleList(FeedbackPoint(d, tag=t) for d, t in zip(dims, _tags(len(dims))))
        self.output_dim = sizes[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer, point in zip(self.layers, self.points):
            x = point(layer(x))
        return x


def zero_linear(fields: Sequence[int]) -> FeaturesLinear:
    """torchfm's linear terms, starting at zero."""
    linear = FeaturesLinear(fields)
    nn.init.zeros_(linear.fc.weight)
    return linear


EMBEDDING_FEEDBACK: tuple[str, ...] = ("point", "layer", "none")


def embedding_point(size: int, mode: str, allowed: tuple[str, ...] = EMBEDDING_FEEDBACK[:2]) -> nn.Module:
    """The embedding table's feedback point for ``mode="point"``, else an identity."""
    if mode not in allowed:
        raise ValueError(f"embedding_feedback={mode!r}; choose one of {allowed}")
    return FeedbackPoint(size) if mode == "point" else nn.Identity()


class CTRModel(DFAModel):
    """Base of the CTR models: holds the field encoding and scores raw records."""

    feedback_defaults = {"feedback_init": "uniform2020"}

    def __init__(self, fields: Sequence[Mapping[str, Any]]) -> None:
        super().__init__()
        self.encoder = FieldEncoder(fields)
        self.field_dims = self.encoder.field_dims

    @property
    def field_names(self) -> list[str]:
        return list(self.encoder.names)

    @torch.no_grad()
    def score(self, records: Iterable[Mapping[str, Any]]) -> torch.Tensor:
        """Click probabilities (float32, one per record) of records of raw field values, e.g.
        ``[{"user_id": 1, "item_id": 50, "age": 24, ...}]``. Ids never seen in training and
        ``None`` values map to the out-of-vocabulary index; a missing or unknown field, or a value
        of the wrong type, raises :class:`~dfazoo.recsys.fields.FieldValueError` naming it."""
        x = self.encoder.encode(records)
        if len(x) == 0:
            return torch.empty(0)
        was_training = self.training
        self.eval()
        try:
            return torch.sigmoid(self(x).squeeze(-1))
        finally:
            self.train(was_training)


class FM(CTRModel):
    """Factorization machine: linear terms + pairwise inner products. No hidden layer: the shallow
    reference (every method trains it by gradient descent)."""

    arch_name = "fm"

    def __init__(self, fields: Sequence[Mapping[str, Any]], embed_dim: int = 16, **feedback: Any) -> None:
        super().__init__(fields)
        self.linear = zero_linear(self.field_dims)
        self.embedding = FeaturesEmbedding(self.field_dims, embed_dim)
        self.fm = FactorizationMachine(reduce_sum=True)
        self.output_hook = OutputHook()
        self.setup_feedback(1, **feedback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.output_hook(self.linear(x) + self.fm(self.embedding(x)))


class DeepFM(CTRModel):
    """DeepFM (Guo et al. 2017): FM + an MLP on the concatenated embeddings; the MLP learns by DFA."""

    arch_name = "deepfm"

    def __init__(
        self,
        fields: Sequence[Mapping[str, Any]],
        embed_dim: int = 16,
        mlp_dims: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        embedding_feedback: str = "none",
        **feedback: Any,
    ) -> None:
        super().__init__(fields)
        width = len(self.field_dims) * embed_dim
        self.linear = zero_linear(self.field_dims)
        self.embedding = FeaturesEmbedding(self.field_dims, embed_dim)
        self.fm = FactorizationMachine(reduce_sum=True)
        self.embedding_feedback = embedding_feedback
        self.embedding_point = embedding_point(width, embedding_feedback, EMBEDDING_FEEDBACK)
        self.mlp = PointedMLP(width, mlp_dims, dropout)
        self.head = nn.Linear(self.mlp.output_dim, 1)
        self.output_hook = OutputHook()
        self.setup_feedback(1, **feedback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embed = self.embedding(x)
        deep_in = self.embedding_point(embed.flatten(1))
        if self.method != "bp" and self.embedding_feedback == "none":
            deep_in = deep_in.detach()  # the embeddings learn through the FM only
        return self.output_hook(self.linear(x) + self.fm(embed) + self.head(self.mlp(deep_in)))


class DCN(CTRModel):
    """Deep & Cross Network (Wang et al. 2017): a cross network and an MLP side by side on the
    embeddings, then one linear output. Embeddings, cross layers and MLP all learn by DFA."""

    arch_name = "dcn"

    def __init__(
        self,
        fields: Sequence[Mapping[str, Any]],
        embed_dim: int = 16,
        num_cross_layers: int = 3,
        mlp_dims: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        embedding_feedback: str = "point",
        **feedback: Any,
    ) -> None:
        super().__init__(fields)
        width = len(self.field_dims) * embed_dim
        self.embedding = FeaturesEmbedding(self.field_dims, embed_dim)
        self.embedding_point = embedding_point(width, embedding_feedback)
        self.cross = CrossNetwork(width, num_cross_layers)
        self.cross_points = nn.ModuleList(FeedbackPoint(width, tag=t) for t in _tags(num_cross_layers))
        self.mlp = PointedMLP(width, mlp_dims, dropout)
        self.head = nn.Linear(width + self.mlp.output_dim, 1)
        self.output_hook = OutputHook()
        self.setup_feedback(1, **feedback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x0 = self.embedding_point(self.embedding(x).flatten(1))
        h = x0
        # torchfm's CrossNetwork.forward, one layer at a time so a point can follow each layer.
        for w, b, point in zip(self.cross.w, self.cross.b, self.cross_points):
            h = point(x0 * w(h) + b + h)
        return self.output_hook(self.head(torch.cat([h, self.mlp(x0)], dim=1)))


class AFN(CTRModel):
    """Adaptive Factorization Network (Cheng et al. 2020): a logarithmic layer learns
    arbitrary-order interactions of the embeddings, an MLP reads them; plus linear terms.

    ``lnn_feedback=False`` (not the paper's placement) removes the logarithmic layer's point: it and
    the embeddings then learn by backpropagating the MLP's DFA signal. On the synthetic benchmark this
    is what lets AFN's deep part learn (``eval/results/recsys_table2.md``)."""

    arch_name = "afn"

    def __init__(
        self,
        fields: Sequence[Mapping[str, Any]],
        embed_dim: int = 16,
        lnn_dim: int = 16,
        mlp_dims: Sequence[int] = (64, 32),
        dropout: float = 0.2,
        embedding_feedback: str = "layer",
        lnn_feedback: bool = True,
        **feedback: Any,
    ) -> None:
        super().__init__(fields)
        num_fields = len(self.field_dims)
        self.linear = zero_linear(self.field_dims)
        self.embedding = FeaturesEmbedding(self.field_dims, embed_dim)
        self.embedding_point = embedding_point(num_fields * embed_dim, embedding_feedback)
        self.lnn = LNN(num_fields, embed_dim, lnn_dim)
        self.lnn_point = FeedbackPoint(lnn_dim * embed_dim) if lnn_feedback else nn.Identity()
        self.mlp = PointedMLP(lnn_dim * embed_dim, mlp_dims, dropout)
        self.head = nn.Linear(self.mlp.output_dim, 1)
        self.output_hook = OutputHook()
        self.setup_feedback(1, **feedback)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        embed = self.embedding_point(self.embedding(x))
        deep = self.head(self.mlp(self.lnn_point(self.lnn(embed))))
        return self.output_hook(self.linear(x) + deep)


ARCHITECTURES: tuple[type[CTRModel], ...] = (FM, DeepFM, DCN, AFN)
