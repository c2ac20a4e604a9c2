"""Graph tasks and recipes end to end with the Trainer, on a generated Planetoid graph."""

import importlib.util
import random
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from graph_fixtures import NUM_CLASSES, NUM_FEATURES, write_planetoid

from dfazoo import measure_alignment
from dfazoo.graph import GCN
from dfazoo.graph.recipes import gae_recipe, node_recipe
from dfazoo.graph.task import LinkPredictionTask, NodeClassificationTask
from dfazoo.spec.registry import build_model, list_models
from dfazoo.train import Trainer
from dfazoo.zoo.hub import save_model

EVAL = Path(__file__).resolve().parents[1] / "eval"


@pytest.fixture(scope="module")
def fixture_root(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        yield str(write_planetoid(tmp_path_factory.mktemp("data")))


def small(recipe, **arch):
    config = {**recipe.arch_config, "in_channels": NUM_FEATURES, "out_channels": NUM_CLASSES, **arch}
    return replace(recipe, arch_config=config, epochs=25)


def test_zoo_ids_are_registered():
    ids = set(list_models(domain="graph"))
    for arch in ("cheb", "gcn", "spline", "gat", "dna"):
        for ds in ("cora", "citeseer"):
            assert {f"{arch}-{ds}-bp", f"{arch}-{ds}-dfa", f"{arch}-{ds}-shallow"} <= ids
    assert {"gae-cora-bp", "gae-cora-dfa", "gae-citeseer-bp", "gae-citeseer-dfa"} <= ids
    model = build_model(node_recipe("gcn", "citeseer", "dfa"))
    assert model.conv1.in_channels == 3703 and model.feedback.error_size == 6


def test_node_classification_trains_with_dfa_and_evaluates_deterministically(fixture_root, tmp_path):
    recipe = small(node_recipe("gcn", "cora", "dfa", seed=0))
    trainer = Trainer(recipe, tmp_path, data_root=fixture_root, progress=False)
    result = trainer.fit()
    assert result.test_metrics["accuracy"] > 50.0  # chance is 33%
    assert result.alignment["point"]["mean"] > 0.4  # 0.58 measured; about 0 before training
    task = trainer.task
    assert task.evaluate(trainer.model, "test") == task.evaluate(trainer.model, "test")
    with pytest.raises(ValueError, match="split"):
        task.evaluate(trainer.model, "dev")


def test_alignment_batch_train_nodes_only(fixture_root):
    recipe = small(node_recipe("gcn", "cora", "dfa", alignment_nodes="train"))
    task = NodeClassificationTask(recipe, fixture_root)
    (x, edge_index), (y, mask), loss_fn = task.alignment_batch()
    assert torch.equal(mask, task.data.train_mask)
    model = GCN(NUM_FEATURES, NUM_CLASSES)
    assert set(measure_alignment(model, (x, edge_index), (y, mask), loss_fn)) == {"point"}


def test_link_prediction_with_dfa(fixture_root, tmp_path):
    recipe = replace(
        gae_recipe("cora", "dfa"), arch_config={"in_channels": NUM_FEATURES, "latent": 8}, epochs=30
    )
    task = LinkPredictionTask(recipe, fixture_root)
    first = task.train_batches(0, torch.Generator().manual_seed(3))[0][1]
    again = task.train_batches(0, torch.Generator().manual_seed(3))[0][1]
    assert torch.equal(first, again)
    result = Trainer(recipe, tmp_path, data_root=fixture_root, task=task, progress=False).fit()
    assert result.test_metrics["auc"] > 0.7 and result.test_metrics["ap"] > 0.6  # chance: 0.5
    assert set(result.alignment) == {"point"}


def test_link_split_ignores_the_global_rngs(fixture_root):
    recipe = replace(gae_recipe("cora", "bp"), arch_config={"in_channels": NUM_FEATURES, "latent": 8})
    negatives = []
    for seed in (1, 2):
        random.seed(seed)
        torch.manual_seed(seed)
        negatives.append(LinkPredictionTask(recipe, fixture_root).edges("test")[1])
    assert torch.equal(*negatives)


def test_finetune_example_on_generated_data(fixture_root, tmp_path):
    spec = importlib.util.spec_from_file_location("graph_finetune", EVAL / "graph_finetune.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["graph_finetune"] = module
    spec.loader.exec_module(module)
    torch.manual_seed(0)
    source = save_model(
        GCN(NUM_FEATURES, NUM_CLASSES, method="dfa"), tmp_path / "gcn", model_id="gcn-cora-dfa"
    )
    result = module.finetune("gcn-cora-dfa", fixture_root, source=str(source), epochs=20)
    assert result["split"]["split"] == "fresh_train"
    assert result["finetuned_test_accuracy"] > result["pretrained_test_accuracy"] + 10.0
    assert result["scratch_test_accuracy"] > 40.0  # chance is 33%
