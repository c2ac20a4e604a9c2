import dataclasses
import json

import pytest
import torch
import torch.nn.functional as F
from eval_scripts import EVAL, load_eval_script

from dfazoo.spec import build_model, get_recipe, list_models
from dfazoo.train import Trainer
from dfazoo.train.optim import build_optimizer
from dfazoo.vision.recipes import (
    MNIST_LR_GRID,
    PRACTICES,
    bottleneck_recipe,
    cnn_cifar_recipe,
    mlp_cifar_recipe,
    mlp_digits_recipe,
    vgg_cifar_recipe,
)
from dfazoo.vision.task import ImageClassificationTask

RESULTS = EVAL / "results"
common = load_eval_script("vision_common")


@pytest.fixture(scope="module")
def digits_recipe():
    return mlp_digits_recipe("dfa", epochs=6)


def test_digits_task_splits_batches_and_metrics(digits_recipe):
    task = ImageClassificationTask(digits_recipe)
    sizes = {k: len(v[0]) for k, v in task.tensors.items()}
    assert sizes == {"train": 1437 - 287, "val": 287, "test": 360}
    x, _ = task.tensors["train"]
    assert x.mean(dim=(0, 2, 3)).abs().max() < 1e-4
    seen = torch.cat([b[1] for b in task.train_batches(0, torch.Generator().manual_seed(0))])
    assert len(seen) == sizes["train"]
    torch.manual_seed(0)
    model = build_model(digits_recipe)
    first, second = task.evaluate(model, "test"), task.evaluate(model, "test")
    logits, labels = task.predict(model, "test"), task.tensors["test"][1]
    assert first == second
    assert first["accuracy"] == pytest.approx(100 * (logits.argmax(-1) == labels).sum().item() / 360)
    assert first["loss"] == pytest.approx(F.cross_entropy(logits, labels).item())
    inputs, targets, loss_fn = task.alignment_batch()
    assert inputs.shape[0] == 128 and loss_fn(model(inputs), targets).ndim == 0


def test_train_subset_is_random_not_the_first_class(digits_recipe):
    recipe = dataclasses.replace(digits_recipe, task_config={"val_size": 287, "train_subset": 100})
    labels = ImageClassificationTask(recipe).tensors["train"][1]
    assert len(labels) == 100 and len(labels.unique()) == 10


def test_dfa_learns_digits_with_the_trainer(digits_recipe, tmp_path):
    trainer = Trainer(digits_recipe, tmp_path / "run", progress=False)
    result = trainer.fit()
    assert result.test_metrics["accuracy"] > 60
    assert len(result.alignment) == len(digits_recipe.arch_config["hidden"])


def test_vision_cell_is_a_runner_record_keyed_by_its_recipe(digits_recipe, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    recipe = dataclasses.replace(digits_recipe, epochs=1)
    records = tmp_path / "runs"
    cell = common.run_cell(recipe, records)
    record = json.loads((records / f"{recipe.run_key()}.json").read_text())
    assert record["test_metrics"]["accuracy"] == cell["test_accuracy"] and cell["train_accuracy"] > 0
    assert common.cached_cell(recipe, records) == cell
    # A different recipe never gets this cell back (the old cell cache returned it).
    other = dataclasses.replace(recipe, epochs=99, optimizer={"name": "adam", "lr": 1e-3})
    assert common.cached_cell(other, records) is None
    assert common.cell_model(recipe).training is False
    summary = common.summarise([cell, cell])
    assert summary["runs"] == 2 and summary["test_accuracy"][1] == 0.0
    assert set(summary["alignment"]) == set(cell["alignment"])


def test_cnn_classifier_lr_is_a_param_group_override():
    paper, fast = cnn_cifar_recipe("norm", "dfa"), cnn_cifar_recipe("norm", "dfa", classifier_lr=0.064)
    assert "param_groups" not in paper.optimizer and paper.paper_ref == fast.paper_ref
    optimizer = build_optimizer(build_model(fast), fast.optimizer)
    assert [(g["lr"], len(g["params"])) for g in optimizer.param_groups] == [(5e-4, 6), (0.064, 2)]


def test_vision_recipes_are_registered_and_consistent():
    ids = set(list_models(domain="vision"))
    expected = {f"mlp3x800-cifar10-{m}" for m in ("bp", "dfa", "shallow")} | {
        "cnn-cifar10-bp",
        "cnn-cifar10-dfa",
    }
    expected |= {
        "mlp3x800-mnist-bp",
        "mlp3x800-mnist-dfa",
        "mlp3x800-mnist-shallow",
        "mlp-digits-bp",
        "mlp-digits-dfa",
        "mlp-digits-shallow",
    }
    assert expected <= ids
    assert get_recipe("mlp3x800-cifar10-dfa").arch_config["error_reduction"] == "sum"
    assert "JPEG" in get_recipe("cnn-cifar10-dfa").data_notes


@pytest.mark.parametrize("method", ["bp", "dfa"])
def test_mnist_rates_are_the_best_of_their_committed_search(method):
    search = json.loads((RESULTS / "vision_lr_search" / f"mlp3x800-mnist-{method}.json").read_text())
    recipe = get_recipe(f"mlp3x800-mnist-{method}")
    assert search["epochs"] == recipe.epochs
    assert [float(lr) for lr in search["cells"]] == list(MNIST_LR_GRID[method])
    assert recipe.optimizer["lr"] == search["best_lr"]
    assert (
        get_recipe("mlp3x800-mnist-shallow").optimizer["lr"]
        == get_recipe("mlp3x800-mnist-dfa").optimizer["lr"]
    )


def test_practice_grids_build_the_described_models():
    for practice, (_, overrides, lr, _) in PRACTICES.items():
        recipe = mlp_cifar_recipe(practice, "dfa")
        assert recipe.optimizer["lr"] == lr and all(recipe.arch_config[k] == v for k, v in overrides.items())
    assert mlp_cifar_recipe("norm", "bp").optimizer["lr"] == pytest.approx(128 * 5e-4)
    assert bottleneck_recipe(7).arch_config["bottleneck_keep"] == 7
    assert cnn_cifar_recipe("no_norm").arch_config["feedback_norm"] is False
    assert vgg_cifar_recipe("bp").arch == "vgg16"
