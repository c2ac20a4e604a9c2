"""The one runner: train a recipe into ``<root>/<recipe.run_key()>/`` and cache its outcome.

Table scripts, searches and releases all call :func:`run`. A run folder holds the Trainer's files
(``last.pt``, ``best.pt``, ``metrics.jsonl``, ``recipe.json``, ``result.json``) and the runner's
``record.json`` (a :class:`RunRecord`), written once the run is finished. Two recipes share a run
exactly when their training fields are equal (:meth:`Recipe.run_key`); a folder whose
``recipe.json`` trains something else is refused, never reused.

``records`` (optional) is a folder of ``<run_key>.json`` copies of the records, for tables that
commit their runs' outcomes without the checkpoints: :func:`cached` reads it first.

Extending a run: a recipe without a scheduler that differs from a finished run under the same
root only by more epochs resumes from that run's last checkpoint (copied into its own folder), which
trains the same weights as the longer budget from the start. With a scheduler the schedule depends
on the total, so the run starts afresh.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from dfazoo.data.root import cache_dir
from dfazoo.files import atomic_file
from dfazoo.spec.recipe import DESCRIPTIVE_FIELDS, Recipe
from dfazoo.train.trainer import Trainer, TrainingDivergedError

RECORD_NAME = "record.json"
EXTENDED_FILES = ("last.pt", "best.pt", "metrics.jsonl")


class RunMismatchError(RuntimeError):
    """A run folder or record holds a different recipe than the one its key was computed from."""


@dataclass
class RunRecord:
    """The outcome of one run. Metrics are keyed as the task reports them (``recipe.metric`` among them)."""

    key: str
    recipe: Recipe
    finished: bool
    epochs_done: int
    best_epoch: int | None = None
    val_metrics: dict[str, float] = field(default_factory=dict)
    test_metrics: dict[str, float] = field(default_factory=dict)
    train_metrics: dict[str, float] = field(default_factory=dict)
    alignment: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_time: float = 0.0
    threads: int = 0  # torch threads of the chunk that finished the run (0: not recorded)
    cpus: int = 0  # CPU count of the machine that finished it (0: not recorded)
    diverged: bool = False
    error: str = ""
    data_notes: str = ""
    folder: Path | None = None

    @property
    def val(self) -> float | None:
        """The selection metric at the best epoch (None for a diverged or unfinished run)."""
        return self.val_metrics.get(self.recipe.metric)

    @property
    def test(self) -> float | None:
        """The recipe's metric on the report split of the best-validation weights."""
        return self.test_metrics.get(self.recipe.metric)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["recipe"] = self.recipe.to_dict()
        del data["folder"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], recipe: Recipe, folder: Path | None = None) -> RunRecord:
        """The record ``data`` (as :meth:`to_dict` wrote it) for ``recipe``, which must train the same."""
        _check_same(data["recipe"], recipe, f"record {data.get('key')}")
        fields = {k: v for k, v in data.items() if k not in ("recipe", "folder")}
        return cls(**fields, recipe=recipe, folder=folder)


def default_root() -> Path:
    """Where run folders go by default: ``$DFAZOO_RUNS``, else a cache beside the processed data
    (never the repository). Tables and releases share it, so a release reuses a table's run."""
    return Path(os.environ.get("DFAZOO_RUNS") or cache_dir().parent / "runs")


def run_folder(recipe: Recipe, root: Path) -> Path:
    return Path(root) / recipe.run_key()


def cached(recipe: Recipe, root: Path | None = None, records: Path | None = None) -> RunRecord | None:
    """The finished run of ``recipe`` under ``records`` or ``root``, else None."""
    key = recipe.run_key()
    folder = run_folder(recipe, root) if root is not None else None
    for path in (records / f"{key}.json" if records else None, folder / RECORD_NAME if folder else None):
        if path is not None and path.exists():
            return RunRecord.from_dict(json.loads(path.read_text()), recipe, folder)
    return None


def run(
    recipe: Recipe,
    *,
    root: Path | None = None,
    records: Path | None = None,
    data_root: str | None = None,
    max_epochs: int | None = None,
    progress: bool = False,
    threads: int | None = None,
    train_metrics: bool = False,
    align_every: int | None = None,
) -> RunRecord:
    """Train ``recipe`` (resuming its folder) unless its finished run is cached; return its record.

    ``max_epochs`` trains a chunk: the record is then unfinished and nothing is cached until a
    later call completes ``recipe.epochs``. ``train_metrics`` also evaluates the best weights on
    the train split. ``align_every`` logs DFA alignment every that many epochs in ``metrics.jsonl``.
    A diverged run is recorded as such (finished, not retried).
    """
    root = Path(root) if root is not None else default_root()
    hit = cached(recipe, root, records)
    if hit is not None:
        return hit
    folder = run_folder(recipe, root)
    if (folder / "recipe.json").exists():
        _check_same(json.loads((folder / "recipe.json").read_text()), recipe, str(folder))
    elif (shorter := _shorter_run(recipe, root)) is not None:
        _extend(shorter, folder, recipe)
    if threads:
        torch.set_num_threads(threads)
    resume = (folder / "last.pt").exists()  # the folder is this recipe's: anything else is stale
    trainer = Trainer(
        recipe,
        folder,
        data_root=data_root,
        progress=progress,
        resume=resume,
        overwrite=not resume,
        max_epochs=max_epochs,
        align_every=align_every,
    )
    record = RunRecord(recipe.run_key(), recipe, finished=True, epochs_done=0, folder=folder)
    try:
        result = trainer.fit()
    except TrainingDivergedError as err:
        record.diverged, record.error = True, str(err)
    else:
        record.finished = trainer.epoch >= recipe.epochs
        record.best_epoch, record.val_metrics = result.best_epoch, result.val_metrics
        record.test_metrics, record.alignment = result.test_metrics, result.alignment
        record.wall_time = result.wall_time
        record.threads, record.cpus = torch.get_num_threads(), os.cpu_count() or 0
        if train_metrics and record.finished:
            with torch.no_grad():
                metrics = trainer.task.evaluate(trainer.model.eval(), "train")
            record.train_metrics = {k: float(v) for k, v in metrics.items()}
    record.epochs_done = trainer.epoch
    record.data_notes = trainer.task.data_notes
    if record.finished:
        text = (json.dumps(record.to_dict(), indent=2) + "\n").encode()
        for path in (folder / RECORD_NAME, records / f"{record.key}.json" if records else None):
            if path is not None:
                with atomic_file(path) as f:
                    f.write(text)
    return record


def _training_fields(recipe: dict[str, Any]) -> dict[str, Any]:
    canonical = json.loads(json.dumps(recipe))
    return {k: v for k, v in canonical.items() if k not in DESCRIPTIVE_FIELDS}


def _check_same(stored: dict[str, Any], recipe: Recipe, where: str) -> None:
    if _training_fields(stored) != _training_fields(recipe.to_dict()):
        raise RunMismatchError(
            f"{where} holds a run of a different recipe than {recipe.model_id} (key {recipe.run_key()}); "
            "delete it or use another root"
        )


def _shorter_run(recipe: Recipe, root: Path) -> Path | None:
    """The longest finished, non-diverged run under ``root`` that ``recipe`` extends (constant schedule only)."""
    if recipe.scheduler is not None or not root.is_dir():
        return None
    wanted = _training_fields(recipe.to_dict())
    best: tuple[int, Path] | None = None
    for path in root.glob(f"*/{RECORD_NAME}"):
        data = json.loads(path.read_text())
        done = _training_fields(data["recipe"])
        epochs = done.get("epochs", recipe.epochs)
        if (
            not data["diverged"]
            and data["recipe"]["model_id"] == recipe.model_id  # the checkpoint is tagged with it
            and epochs < recipe.epochs
            and {**done, "epochs": recipe.epochs} == wanted
            and (path.parent / "last.pt").exists()
            and (best is None or epochs > best[0])
        ):
            best = (epochs, path.parent)
    return best[1] if best else None


def _extend(shorter: Path, folder: Path, recipe: Recipe) -> None:
    """Seed ``folder`` with the checkpoints of ``shorter`` so the Trainer resumes from them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXTENDED_FILES:
        if (shorter / name).exists():
            shutil.copy2(shorter / name, folder / name)
    (folder / "recipe.json").write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")
