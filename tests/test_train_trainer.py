"""The Trainer on a tiny synthetic classification task: logs, checkpoints, resume, NaN, plots."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from dfazoo.spec import Recipe, Task, register_task
from dfazoo.train import MAX_LOSS, RunDirError, Trainer, TrainingDivergedError
from dfazoo.train import checkpoint as checkpoint_module
from dfazoo.train.checkpoint import atomic_save, load_checkpoint
from dfazoo.train.optim import build_optimizer, build_scheduler
from dfazoo.train.plot import plot_run


@register_task
class SyntheticTask(Task):
    """Labels of a fixed random teacher on Gaussian inputs; 64 train, 32 val, 32 test samples."""

    name = "test-train-synthetic"
    splits = ("train", "val", "test")

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        gen = torch.Generator().manual_seed(123)
        x = torch.randn(128, 8, generator=gen)
        y = (x @ torch.randn(8, 3, generator=gen)).argmax(1)
        self.data = {"train": (x[:64], y[:64]), "val": (x[64:96], y[64:96]), "test": (x[96:], y[96:])}
        self.poison_from_epoch: int | None = None
        self.poison = math.nan  # the loss from that epoch on

    def train_batches(self, epoch, generator):
        x, y = self.data["train"]
        order = torch.randperm(len(x), generator=generator)
        size = self.recipe.batch_size
        return [(x[order[i : i + size]], y[order[i : i + size]]) for i in range(0, len(x), size)]

    def loss(self, model, batch):
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        if self.poison_from_epoch is not None and self._epoch_of(model) >= self.poison_from_epoch:
            return loss * 0 + self.poison
        return loss

    def _epoch_of(self, model) -> int:
        model.calls = getattr(model, "calls", 0) + 1
        return (model.calls - 1) // 4 + 1

    def evaluate(self, model, split):
        x, y = self.data[split]
        logits = model(x)
        return {
            "accuracy": (logits.argmax(1) == y).float().mean().item(),
            "loss": F.cross_entropy(logits, y).item(),
        }

    def alignment_batch(self):
        x, y = self.data["train"]
        return x, y, F.cross_entropy


@register_task
class TrainOnlyTask(SyntheticTask):
    name = "test-train-synthetic-trainonly"
    splits = ("train",)


def tiny_recipe(**overrides) -> Recipe:
    recipe = Recipe(
        model_id="mlp-synthetic-dfa",
        domain="vision",
        arch="mlp",
        dataset="synthetic",
        method="dfa",
        task=SyntheticTask.name,
        metric="accuracy",
        arch_config={"in_features": 8, "hidden": [16, 16], "out_features": 3, "dropout": 0.1},
        optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9},
        epochs=4,
        batch_size=16,
        seed=7,
    )
    return replace(recipe, **overrides)


def model_state(path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def test_fit_logs_checkpoints_and_keeps_the_best(tmp_path):
    trainer = Trainer(tiny_recipe(epochs=3), tmp_path, progress=False)
    result = trainer.fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == [1, 2, 3]
    assert [r["step"] for r in records] == [4, 8, 12]
    assert all({"loss", "lr", "time", "val"} <= r.keys() for r in records)
    best = max(records, key=lambda r: r["val"]["accuracy"])
    assert result.best_metric == best["val"]["accuracy"]
    assert result.best_epoch == best["epoch"]
    assert result.val_metrics == best["val"]
    assert set(result.test_metrics) == {"accuracy", "loss"}
    assert set(result.alignment) == set(trainer.model.feedback_points()) == {"body.4", "body.8"}
    best_weights = torch.load(tmp_path / "best.pt", weights_only=True)
    assert all(torch.equal(best_weights[k], v) for k, v in trainer.model.state_dict().items())
    assert json.loads((tmp_path / "result.json").read_text())["best_epoch"] == result.best_epoch
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 3


def test_dfa_training_learns_the_synthetic_task(tmp_path):
    result = Trainer(tiny_recipe(epochs=8), tmp_path, progress=False).fit()
    assert result.best_metric > 0.7


def test_resume_continues_bit_exactly(tmp_path):
    recipe = tiny_recipe(
        optimizer={"name": "adam", "lr": 1e-2},
        scheduler={"name": "cosine", "interval": "step", "warmup": 2},
        grad_clip=1.0,
    )
    Trainer(recipe, tmp_path / "straight", progress=False).fit()
    Trainer(recipe, tmp_path / "chunked", progress=False, max_epochs=2).fit()
    assert load_checkpoint(tmp_path / "chunked" / "last.pt")["epoch"] == 2
    Trainer(recipe, tmp_path / "chunked", progress=False, resume=True).fit()
    straight, chunked = model_state(tmp_path / "straight/last.pt"), model_state(tmp_path / "chunked/last.pt")
    assert all(torch.equal(straight[k], chunked[k]) for k in straight)

    def losses(run):
        return [
            json.loads(line)["loss"] for line in (tmp_path / run / "metrics.jsonl").read_text().splitlines()
        ]

    assert losses("straight") == losses("chunked")


@pytest.mark.parametrize("poison", [math.nan, math.inf, 1e16, 1e30])
def test_nan_or_exploding_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, poison):
    trainer = Trainer(tiny_recipe(), tmp_path, progress=False)
    trainer.task.poison_from_epoch = 2
    message = r"diverged at epoch 2; last good checkpoint kept; lower the learning rate \(training loss"
    with pytest.raises(TrainingDivergedError, match=message):
        trainer.fit()
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 1


def test_a_large_finite_loss_below_the_bound_trains_on(tmp_path):
    trainer = Trainer(tiny_recipe(epochs=2), tmp_path, progress=False, max_loss=1e31)
    trainer.task.poison_from_epoch, trainer.task.poison = 2, 1e30
    assert trainer.fit().best_epoch is not None and MAX_LOSS == 1e10


def test_huge_learning_rate_diverges(tmp_path):
    arch = {"in_features": 8, "hidden": [16, 16], "out_features": 3, "activation": "relu"}
    recipe = tiny_recipe(optimizer={"name": "sgd", "lr": 1e30}, arch_config=arch, method="bp")
    with pytest.raises(
        TrainingDivergedError, match=r"diverged at epoch 1; no checkpoint was written yet; .*lr 1e\+30"
    ):
        Trainer(recipe, tmp_path, progress=False).fit()


class NaNMetricTask(SyntheticTask):
    """Reports a NaN (and an infinite) metric beside the accuracy."""

    name = "test-train-synthetic-nan-metric"

    def evaluate(self, model, split):
        return {**super().evaluate(model, split), "loss": math.nan, "ratio": -math.inf}


register_task(NaNMetricTask)


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def test_metrics_jsonl_and_result_are_strict_json_with_null_for_nan(tmp_path):
    Trainer(tiny_recipe(epochs=2, task=NaNMetricTask.name), tmp_path, progress=False).fit()
    records = [_strict(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["val"]["loss"] for r in records] == [None, None]
    assert [r["val"]["ratio"] for r in records] == [None, None]
    assert _strict((tmp_path / "result.json").read_text())["test_metrics"]["loss"] is None


def test_interrupted_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    Trainer(tiny_recipe(epochs=1), tmp_path, progress=False).fit()
    before = model_state(tmp_path / "last.pt")

    def torn_save(obj, f):
        f.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(checkpoint_module.torch, "save", torn_save)
    with pytest.raises(OSError, match="disk full"):
        atomic_save({"model": {}}, tmp_path / "last.pt")
    after = model_state(tmp_path / "last.pt")
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not list(tmp_path.glob(".last.pt.*"))


def test_plots_loss_metric_and_alignment(tmp_path):
    Trainer(tiny_recipe(epochs=2), tmp_path, progress=False, align_every=1).fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all(set(r["alignment"]) == {"body.4", "body.8"} for r in records)
    paths = plot_run(tmp_path)
    assert [p.name for p in paths] == ["loss.png", "metrics.png", "alignment.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_plot_run_names_a_missing_log(tmp_path):
    with pytest.raises(FileNotFoundError, match="metrics.jsonl"):
        plot_run(tmp_path)


def test_task_without_val_selects_on_train_and_skips_test(tmp_path):
    recipe = tiny_recipe(epochs=2, eval_every=2, task=TrainOnlyTask.name)
    result = Trainer(recipe, tmp_path, progress=False).fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert "train" not in records[0] and "train" in records[1]
    assert result.best_metric == records[1]["train"]["accuracy"]
    assert result.test_metrics == {}


def test_missing_selection_metric_is_named(tmp_path):
    with pytest.raises(KeyError, match="'f1'"):
        Trainer(tiny_recipe(epochs=1, metric="f1"), tmp_path, progress=False).fit()


def test_resume_refuses_another_models_checkpoint(tmp_path):
    Trainer(tiny_recipe(epochs=1), tmp_path, progress=False).fit()
    with pytest.raises(RunDirError, match="belongs to 'mlp-synthetic-dfa'"):
        Trainer(tiny_recipe(epochs=1, model_id="x-bp"), tmp_path, progress=False, resume=True).fit()
    with pytest.raises(RunDirError, match="cannot resume: .* a different recipe"):
        Trainer(tiny_recipe(epochs=1, seed=8), tmp_path, progress=False, resume=True).fit()


def test_resume_without_a_checkpoint_is_an_error(tmp_path):
    with pytest.raises(RunDirError, match="cannot resume: .*last.pt does not exist; drop --resume"):
        Trainer(tiny_recipe(), tmp_path, progress=False, resume=True).fit()
    assert not (tmp_path / "metrics.jsonl").exists()


def test_a_fresh_run_never_overwrites_a_run_folder(tmp_path):
    Trainer(tiny_recipe(epochs=1), tmp_path, progress=False).fit()
    before = (tmp_path / "last.pt").read_bytes(), (tmp_path / "metrics.jsonl").read_text()
    with pytest.raises(
        RunDirError, match="already holds a run of mlp-synthetic-dfa .*pass --resume .* --overwrite"
    ):
        Trainer(tiny_recipe(epochs=1), tmp_path, progress=False).fit()
    with pytest.raises(RunDirError, match="holds a run of a different recipe \\(mlp-synthetic-dfa, key"):
        Trainer(tiny_recipe(epochs=1, optimizer={"name": "adam", "lr": 1e-3}), tmp_path, progress=False).fit()
    assert ((tmp_path / "last.pt").read_bytes(), (tmp_path / "metrics.jsonl").read_text()) == before
    other = tiny_recipe(epochs=1, seed=8)
    Trainer(other, tmp_path, progress=False, overwrite=True).fit()
    assert json.loads((tmp_path / "recipe.json").read_text())["seed"] == 8
    assert (tmp_path / "last.pt").read_bytes() != before[0]


def test_optimizer_param_groups_and_schedulers():
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1))
    opt = build_optimizer(
        model, {"name": "AdamW", "lr": 1e-3, "param_groups": [{"match": "1.*", "lr": 1e-2}]}
    )
    assert isinstance(opt, torch.optim.AdamW)
    assert [g["lr"] for g in opt.param_groups] == [1e-3, 1e-2]
    assert [len(g["params"]) for g in opt.param_groups] == [2, 2]
    plateau, interval = build_scheduler(
        opt, {"name": "plateau", "patience": 0}, epochs=5, steps_per_epoch=None, higher_is_better=False
    )
    assert plateau.mode == "min" and interval == "epoch"
    cosine, _ = build_scheduler(opt, {"name": "cosine"}, epochs=5, steps_per_epoch=3, higher_is_better=True)
    assert cosine.T_max == 5
    with pytest.raises(ValueError, match="total_steps"):
        build_scheduler(
            opt, {"name": "cosine", "interval": "step"}, epochs=5, steps_per_epoch=None, higher_is_better=True
        )
    with pytest.raises(ValueError, match="optimizer 'lion' is unknown"):
        build_optimizer(model, {"name": "lion"})


def test_chunk_ending_before_the_first_evaluation_reports_no_metric(tmp_path):
    recipe = tiny_recipe(eval_every=4)
    partial = Trainer(recipe, tmp_path, progress=False, max_epochs=1).fit()
    assert (partial.best_metric, partial.best_epoch, partial.test_metrics) == (None, None, {})
    trainer = Trainer(recipe, tmp_path, progress=False, resume=True)
    result = trainer.fit()
    assert trainer.epoch == 4 and result.best_epoch == 4 and result.test_metrics
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [("val" in r) for r in records] == [False, False, False, True]


class TrainTestTask(SyntheticTask):
    """Declares no validation split: the Trainer selects the best epoch on train."""

    name = "test-train-synthetic-train-test"
    splits = ("train", "test")


class BrokenValTask(SyntheticTask):
    """Declares a val split but fails to evaluate it: the error must surface, not be swallowed."""

    name = "test-train-synthetic-broken-val"

    def evaluate(self, model, split):
        if split == "val":
            raise KeyError("val")
        return super().evaluate(model, split)


register_task(TrainTestTask)
register_task(BrokenValTask)


def test_task_without_val_split_selects_on_train(tmp_path):
    result = Trainer(tiny_recipe(epochs=2, task=TrainTestTask.name), tmp_path, progress=False).fit()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert all("train" in r and "val" not in r for r in records)
    assert result.best_metric == max(r["train"]["accuracy"] for r in records)
    assert result.test_metrics


def test_a_failing_declared_split_is_not_swallowed(tmp_path):
    with pytest.raises(KeyError, match="val"):
        Trainer(tiny_recipe(epochs=1, task=BrokenValTask.name), tmp_path, progress=False).fit()


class WeightNormTask(SyntheticTask):
    """Selects on the smallest weight norm, which training only grows: the best epoch is the first."""

    name = "test-train-synthetic-weight-norm"

    def evaluate(self, model, split):
        norm = sum(p.detach().norm().item() for p in model.parameters())
        return {**super().evaluate(model, split), "neg_norm": -norm}


register_task(WeightNormTask)


def test_chunked_run_restores_the_best_record_of_the_straight_run(tmp_path):
    """Fails if resume drops the best weights, metric or epoch of the first chunk."""
    recipe = tiny_recipe(epochs=6, task=WeightNormTask.name, metric="neg_norm")
    straight_trainer = Trainer(recipe, tmp_path / "straight", progress=False)
    straight = straight_trainer.fit()
    assert straight.best_epoch <= 3  # the best lies in the first chunk, so only resume can restore it
    Trainer(recipe, tmp_path / "chunked", progress=False, max_epochs=3).fit()
    chunked_trainer = Trainer(recipe, tmp_path / "chunked", progress=False, resume=True)
    chunked = chunked_trainer.fit()
    assert (chunked.best_epoch, chunked.best_metric) == (straight.best_epoch, straight.best_metric)
    assert chunked.test_metrics == straight.test_metrics and chunked.val_metrics == straight.val_metrics
    for name in ("best.pt", "model.safetensors"):
        assert (tmp_path / "chunked" / name).read_bytes() == (tmp_path / "straight" / name).read_bytes()
    best = straight_trainer.model.state_dict()
    assert all(torch.equal(best[k], v) for k, v in chunked_trainer.model.state_dict().items())


def test_run_folder_is_a_model_folder_of_the_best_weights(tmp_path):
    import dfazoo

    recipe = tiny_recipe(epochs=3, task=WeightNormTask.name, metric="neg_norm")
    trainer = Trainer(recipe, tmp_path, progress=False)
    result = trainer.fit()
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["model_id"] == recipe.model_id and result.best_epoch == 1
    loaded = dfazoo.from_pretrained(tmp_path)
    best = load_checkpoint(tmp_path / "best.pt")
    last = load_checkpoint(tmp_path / "last.pt")["model"]
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in best.items())
    assert not all(torch.equal(last[k], v) for k, v in best.items())  # the best, not the last epoch


def test_progress_off_a_terminal_is_one_line_per_epoch(tmp_path, capsys):
    Trainer(tiny_recipe(epochs=3), tmp_path, progress=True).fit()  # pytest's stderr is no TTY
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and "\r" not in capsys.readouterr().err
    assert lines[2].startswith("mlp-synthetic-dfa epoch 3/3: loss ") and "val accuracy" in lines[2]
