"""The one runner: runs keyed by the recipe's training fields, resumable, extendable, never stale."""

import dataclasses
import json
import os

import pytest
import torch
from test_train_trainer import WeightNormTask, tiny_recipe

from dfazoo.train import Trainer, TrainingDivergedError
from dfazoo.train.runner import RunMismatchError, cached, run, run_folder
from dfazoo.vision.recipes import mlp_digits_recipe


@pytest.fixture(scope="module")
def recipe():
    return mlp_digits_recipe("dfa", epochs=2)


def test_same_recipe_hits_changed_training_field_misses_changed_description_hits(recipe, tmp_path):
    assert cached(recipe, tmp_path) is None
    first = run(recipe, root=tmp_path)
    assert first.finished and first.epochs_done == 2 and first.key == recipe.run_key()
    assert first.test == first.test_metrics["accuracy"] and first.val is not None
    assert (tmp_path / first.key / "record.json").exists() and (tmp_path / first.key / "best.pt").exists()
    assert (first.threads, first.cpus) == (torch.get_num_threads(), os.cpu_count())
    assert run(recipe, root=tmp_path).to_dict() == first.to_dict()
    reworded = dataclasses.replace(recipe, description="other words", notes="x")
    assert cached(reworded, tmp_path).to_dict()["test_metrics"] == first.test_metrics
    changed = dataclasses.replace(recipe, optimizer={"name": "adam", "lr": 1e-9})
    assert cached(changed, tmp_path) is None
    assert run(changed, root=tmp_path).test != first.test


def test_align_every_logs_alignment_over_training(recipe, tmp_path):
    record = run(recipe, root=tmp_path, align_every=1)
    lines = [json.loads(line) for line in (record.folder / "metrics.jsonl").read_text().splitlines()]
    assert [sorted(line["alignment"]) for line in lines] == [sorted(record.alignment)] * 2


def test_chunked_run_resumes_to_the_straight_result_and_records_copy(recipe, tmp_path):
    straight = run(recipe, root=tmp_path / "a")
    chunk = run(recipe, root=tmp_path / "b", max_epochs=1)
    assert not chunk.finished and chunk.epochs_done == 1 and cached(recipe, tmp_path / "b") is None
    resumed = run(recipe, root=tmp_path / "b", records=tmp_path / "records")
    assert resumed.finished and resumed.test_metrics == straight.test_metrics
    assert resumed.val_metrics == straight.val_metrics and resumed.best_epoch == straight.best_epoch
    # The committed copy answers without the run folder (checkpoints are not committed).
    again = cached(recipe, tmp_path / "elsewhere", tmp_path / "records")
    assert again.test_metrics == straight.test_metrics


def test_chunked_run_restores_the_best_weights_of_the_first_chunk(tmp_path):
    """Fails if resume does not restore the first chunk's best weights, metric and epoch."""
    recipe = tiny_recipe(epochs=6, task=WeightNormTask.name, metric="neg_norm")
    straight = run(recipe, root=tmp_path / "a")
    assert straight.best_epoch <= 3  # the best lies in the first chunk
    assert not run(recipe, root=tmp_path / "b", max_epochs=3).finished
    resumed = run(recipe, root=tmp_path / "b")
    assert resumed.best_epoch == straight.best_epoch and resumed.test_metrics == straight.test_metrics
    assert resumed.val_metrics == straight.val_metrics
    best = [root / recipe.run_key() / "best.pt" for root in (tmp_path / "a", tmp_path / "b")]
    assert best[0].read_bytes() == best[1].read_bytes()


def test_constant_schedule_run_extends_a_shorter_finished_run(recipe, tmp_path):
    assert recipe.scheduler is None
    short = run(dataclasses.replace(recipe, epochs=1), root=tmp_path / "a")
    longer = run(recipe, root=tmp_path / "a")
    fresh = run(recipe, root=tmp_path / "b")
    assert longer.test_metrics == fresh.test_metrics and longer.key != short.key
    assert cached(dataclasses.replace(recipe, epochs=1), tmp_path / "a").epochs_done == 1  # kept
    metrics = (tmp_path / "a" / longer.key / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in metrics] == [1, 2]


def test_refuses_a_folder_or_record_of_another_recipe(recipe, tmp_path):
    folder = run_folder(recipe, tmp_path)
    folder.mkdir(parents=True)
    other = dataclasses.replace(recipe, seed=7).to_dict()
    (folder / "recipe.json").write_text(json.dumps(other))
    with pytest.raises(RunMismatchError, match="different recipe"):
        run(recipe, root=tmp_path)
    (folder / "record.json").write_text(json.dumps({"key": recipe.run_key(), "recipe": other}))
    with pytest.raises(RunMismatchError):
        cached(recipe, tmp_path)


def test_divergence_is_recorded_not_retried(recipe, tmp_path, monkeypatch):
    def diverge(self):
        raise TrainingDivergedError("training loss became nan")

    exploding = dataclasses.replace(recipe, optimizer={"name": "sgd", "lr": 1e12}, epochs=1)
    monkeypatch.setattr(Trainer, "fit", diverge)
    record = run(exploding, root=tmp_path)
    monkeypatch.undo()
    assert record.diverged and record.finished and "loss became" in record.error
    assert cached(exploding, tmp_path).diverged
