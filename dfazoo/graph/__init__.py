"""Graph domain: DFA graph convolutions and graph autoencoders on citation networks."""

from dfazoo.graph.convs import DNA, GAT, GCN, ChebNet, SplineNet
from dfazoo.graph.gae import GAE
from dfazoo.graph.spline import SplineConv
from dfazoo.graph.task import LinkPredictionTask, NodeClassificationTask

__all__ = [
    "DNA",
    "GAE",
    "GAT",
    "GCN",
    "ChebNet",
    "LinkPredictionTask",
    "NodeClassificationTask",
    "SplineConv",
    "SplineNet",
]
