"""Graph domain: DFA graph convolutions and graph autoencoders on citation networks."""

from dfazoo.graph.gae import GAE
from dfazoo.graph.node_models import DNA, GAT, GCN, ChebNet, SplineNet
from dfazoo.graph.recipes import RECIPES
from dfazoo.graph.spline import SplineConv
from dfazoo.graph.task import LinkPredictionTask, NodeClassificationTask
from dfazoo.spec import Domain, register_domain

DOMAIN = register_domain(
    Domain(
        "graph",
        architectures=(ChebNet, GCN, SplineNet, GAT, DNA, GAE),
        tasks=(NodeClassificationTask, LinkPredictionTask),
        recipes=RECIPES,
    )
)

__all__ = [
    "DNA",
    "DOMAIN",
    "GAE",
    "GAT",
    "GCN",
    "ChebNet",
    "LinkPredictionTask",
    "NodeClassificationTask",
    "SplineConv",
    "SplineNet",
]
