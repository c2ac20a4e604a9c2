"""Graph tasks: full-batch node classification and GAE link prediction on Planetoid graphs."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score, roc_auc_score
from torch_geometric.data import Data
from torch_geometric.transforms import RandomLinkSplit
from torch_geometric.utils import negative_sampling

from dfazoo.data.planetoid import load_planetoid
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task

SPLITS: tuple[str, ...] = ("train", "val", "test")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split={split!r} is unknown; choose one of {SPLITS}")


class NodeClassificationTask(Task):
    """Full batch: one "batch" per epoch, the whole graph; loss on the train nodes only.

    ``task_config``: ``dataset`` (default ``recipe.dataset``), ``split`` (``public`` or
    ``random``), ``num_train_per_class``, ``split_seed``, and ``alignment_nodes``: ``all``
    (the paper's appendix A: alignment over every node, the loss taken on all labels) or
    ``train``. Metric ``accuracy`` is in percent.
    """

    name = "node_classification"

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        cfg = recipe.task_config
        self.data: Data = load_planetoid(
            cfg.get("dataset", recipe.dataset),
            data_root,
            split=cfg.get("split", "public"),
            num_train_per_class=cfg.get("num_train_per_class", 20),
            split_seed=cfg.get("split_seed", 0),
        )
        self.alignment_nodes = cfg.get("alignment_nodes", "all")
        if self.alignment_nodes not in ("all", "train"):
            raise ValueError(f"alignment_nodes={self.alignment_nodes!r}; choose 'all' or 'train'")

    @property
    def num_features(self) -> int:
        return int(self.data.num_features)

    @property
    def num_classes(self) -> int:
        return int(self.data.y.max()) + 1

    def mask(self, split: str) -> torch.Tensor:
        _check_split(split)
        return self.data[f"{split}_mask"]

    def train_batches(self, epoch: int, generator: torch.Generator) -> Iterable[Data]:
        return [self.data]

    def loss(self, model: torch.nn.Module, batch: Data) -> torch.Tensor:
        out = model(batch.x, batch.edge_index)
        return F.cross_entropy(out[batch.train_mask], batch.y[batch.train_mask])

    @torch.no_grad()
    def logits(self, model: torch.nn.Module) -> torch.Tensor:
        """Eval-mode logits of every node (the model's train/eval mode is restored)."""
        was_training = model.training
        model.eval()
        try:
            return model(self.data.x, self.data.edge_index)
        finally:
            model.train(was_training)

    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        mask = self.mask(split)
        out = self.logits(model)[mask]
        y = self.data.y[mask]
        return {
            "accuracy": 100.0 * (out.argmax(-1) == y).double().mean().item(),
            "loss": F.cross_entropy(out, y).item(),
        }

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        mask = (
            self.data.train_mask if self.alignment_nodes == "train" else torch.ones_like(self.data.train_mask)
        )

        def loss_fn(out: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
            y, m = target
            return F.cross_entropy(out[m], y[m])

        return (self.data.x, self.data.edge_index), (self.data.y, mask), loss_fn


def reconstruction_loss(z: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
    """GAE loss: binary cross-entropy of inner-product logits on positive and negative edges."""
    pos_logit = (z[pos[0]] * z[pos[1]]).sum(-1)
    neg_logit = (z[neg[0]] * z[neg[1]]).sum(-1)
    return F.binary_cross_entropy_with_logits(
        pos_logit, torch.ones_like(pos_logit)
    ) + F.binary_cross_entropy_with_logits(neg_logit, torch.zeros_like(neg_logit))


@contextmanager
def seeded_rngs(seed: int) -> Iterator[None]:
    """Seed torch's and Python's global RNGs inside the block and restore both after it.

    PyG's ``RandomLinkSplit`` and ``negative_sampling`` draw from both, so splits and negatives
    are reproducible across processes and the trainer's RNG streams stay untouched.
    """
    state = random.getstate()
    try:
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            random.seed(seed)
            yield
    finally:
        random.setstate(state)


def _seeded_negatives(edge_index: torch.Tensor, num_nodes: int, count: int, seed: int) -> torch.Tensor:
    with seeded_rngs(seed):
        return negative_sampling(edge_index, num_nodes=num_nodes, num_neg_samples=count)


class LinkPredictionTask(Task):
    """GAE link prediction: edges split by ``RandomLinkSplit``; encoder runs on train edges.

    ``task_config``: ``dataset``, ``num_val`` (0.05), ``num_test`` (0.1), ``split_seed`` (0).
    Each epoch draws fresh negative edges from the trainer's generator. Metrics ``auc``, ``ap``.
    """

    name = "link_prediction"

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        cfg = recipe.task_config
        data = load_planetoid(cfg.get("dataset", recipe.dataset), data_root)
        split_seed = int(cfg.get("split_seed", 0))
        splitter = RandomLinkSplit(
            num_val=cfg.get("num_val", 0.05),
            num_test=cfg.get("num_test", 0.1),
            is_undirected=True,
            split_labels=True,
            add_negative_train_samples=False,
        )
        with seeded_rngs(split_seed):
            self.train_data, self.val_data, self.test_data = splitter(data)
        self.num_nodes = int(data.num_nodes)
        train_pos = self.train_data.pos_edge_label_index
        self._train_eval_neg = _seeded_negatives(
            self.train_data.edge_index, self.num_nodes, train_pos.size(1), split_seed
        )

    @property
    def num_features(self) -> int:
        return int(self.train_data.num_features)

    def edges(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(positive, negative) edges scored on ``split``."""
        _check_split(split)
        if split == "train":
            return self.train_data.pos_edge_label_index, self._train_eval_neg
        data = self.val_data if split == "val" else self.test_data
        return data.pos_edge_label_index, data.neg_edge_label_index

    def train_batches(
        self, epoch: int, generator: torch.Generator
    ) -> Iterable[tuple[torch.Tensor, torch.Tensor]]:
        pos = self.train_data.pos_edge_label_index
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        return [(pos, _seeded_negatives(self.train_data.edge_index, self.num_nodes, pos.size(1), seed))]

    def encode(self, model: torch.nn.Module) -> torch.Tensor:
        return model(self.train_data.x, self.train_data.edge_index)

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return reconstruction_loss(self.encode(model), *batch)

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        pos, neg = self.edges(split)
        was_training = model.training
        model.eval()
        try:
            z = self.encode(model)
        finally:
            model.train(was_training)
        edges = torch.cat([pos, neg], dim=1)
        scores = torch.sigmoid((z[edges[0]] * z[edges[1]]).sum(-1)).numpy()
        labels = torch.cat([torch.ones(pos.size(1)), torch.zeros(neg.size(1))]).numpy()
        return {
            "auc": float(roc_auc_score(labels, scores)),
            "ap": float(average_precision_score(labels, scores)),
            "loss": reconstruction_loss(z, pos, neg).item(),
        }

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        def loss_fn(z: torch.Tensor, edges: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
            return reconstruction_loss(z, *edges)

        return (self.train_data.x, self.train_data.edge_index), self.edges("train"), loss_fn
