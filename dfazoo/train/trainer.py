"""The one training loop every zoo model goes through."""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from dfazoo.core import DFAModel, measure_alignment
from dfazoo.spec import Recipe, Task, build_model, make_task
from dfazoo.train.checkpoint import atomic_save, load_checkpoint, restore_rng_states, rng_states
from dfazoo.train.distributed import barrier, init_distributed, shard_batch, wrap_model
from dfazoo.train.optim import build_optimizer, build_scheduler

CHECKPOINT_VERSION = 1
MAX_LOSS = 1e10
"""A training loss above this (or NaN/inf) counts as diverged: no task's loss gets near it."""
WORK_FILES = ("last.pt", "best.pt", "model.safetensors")


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN, infinite or above ``max_loss``; the last good checkpoint is kept."""


class RunDirError(ValueError):
    """A run folder holds work that the requested run would overwrite, or lacks the checkpoint to resume."""


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.fit`; epochs are counted from 1 (``best_epoch`` 3 = after 3 epochs)."""

    best_metric: float | None
    best_epoch: int | None
    test_metrics: dict[str, float] = field(default_factory=dict)
    val_metrics: dict[str, float] = field(default_factory=dict)
    alignment: dict[str, dict[str, float]] = field(default_factory=dict)
    wall_time: float = 0.0
    run_dir: Path = Path(".")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "run_dir": str(self.run_dir)}


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def move_to(batch: Any, device: torch.device) -> Any:
    if device.type == "cpu":
        return batch
    if isinstance(batch, torch.Tensor) or hasattr(batch, "to"):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        parts = [move_to(v, device) for v in batch]
        return type(batch)(*parts) if hasattr(batch, "_fields") else type(batch)(parts)
    return batch


def _json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, so that it is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def strict_json(value: Any, **kwargs: Any) -> str:
    """JSON text of ``value`` with NaN/inf written as null (never the non-standard ``NaN``)."""
    return json.dumps(_json_safe(value), allow_nan=False, **kwargs)


class Trainer:
    """Train ``recipe`` into ``run_dir``: metrics.jsonl, last.pt (resumable), best.pt, result.json,
    and ``config.json`` + ``model.safetensors`` of the best weights (a model folder, loadable with
    ``from_pretrained`` and ``dfazoo eval``), rewritten at each new best.

    A run never silently destroys work: a ``run_dir`` that already holds a checkpoint is refused
    unless ``resume`` (same recipe only) or ``overwrite``; ``resume`` without a checkpoint is an
    error. The run stops with :class:`TrainingDivergedError` when the training loss becomes NaN,
    infinite or larger than ``max_loss`` (default :data:`MAX_LOSS` = 1e10), keeping the last
    good checkpoint. ``metrics.jsonl`` is strict JSON (NaN/inf written as null).

    Progress: a tqdm bar when stderr is a terminal, else one plain line per epoch.

    Args:
        model: built from the recipe (after seeding with ``recipe.seed``) when None.
        task: ``make_task(recipe, data_root)`` when None. The best epoch is chosen on the task's
            ``selection_split``; without a ``"test"`` split no test metrics are reported.
        align_every: measure DFA alignment every that many epochs (logged beside the loss).
        resume: continue from ``run_dir/last.pt`` (bit-exact continuation, best weights and best
            epoch included); the checkpoint must exist and belong to the same recipe.
        overwrite: start afresh even if ``run_dir`` holds another run's checkpoint (deleted).
        max_epochs: stop after that many epochs in total (the schedule still spans
            ``recipe.epochs``), so a long run can be trained in chunks with ``resume=True``.
        max_loss: the divergence bound on the (finite) training loss.
    """

    def __init__(
        self,
        recipe: Recipe,
        run_dir: str | Path,
        data_root: str | None = None,
        model: torch.nn.Module | None = None,
        task: Task | None = None,
        progress: bool = True,
        align_every: int | None = None,
        resume: bool = False,
        max_epochs: int | None = None,
        overwrite: bool = False,
        max_loss: float = MAX_LOSS,
    ) -> None:
        if resume and overwrite:
            raise ValueError("resume and overwrite exclude each other")
        self.recipe = recipe
        self.run_dir = Path(run_dir)
        self.progress, self.align_every, self.resume = progress, align_every, resume
        self.overwrite, self.max_loss = overwrite, max_loss
        self.epochs = recipe.epochs if max_epochs is None else min(recipe.epochs, max_epochs)
        self.dist = init_distributed()
        seed_everything(recipe.seed)
        self.model = (model if model is not None else build_model(recipe)).to(self.dist.device)
        self.task = task if task is not None else make_task(recipe, data_root)
        self.task.prepare_model(self.model)
        self.generator = torch.Generator().manual_seed(recipe.seed)
        self.optimizer = build_optimizer(self.model, recipe.optimizer)
        self.scheduler, self.interval = build_scheduler(
            self.optimizer,
            recipe.scheduler,
            epochs=recipe.epochs,
            steps_per_epoch=self._steps_per_epoch()
            if (recipe.scheduler or {}).get("interval") == "step"
            else None,
            higher_is_better=recipe.higher_is_better,
        )
        self.eval_split = self.task.selection_split
        self.has_test = "test" in self.task.splits
        self.epoch = self.step = 0
        self.elapsed = 0.0
        self.best_metric: float | None = None
        self.best_epoch: int | None = None
        self.best_val: dict[str, float] = {}
        self.best_state: dict[str, torch.Tensor] | None = None

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "last.pt"

    @property
    def metrics_path(self) -> Path:
        return self.run_dir / "metrics.jsonl"

    def fit(self) -> TrainResult:
        """Train up to the epoch budget, then reload the best weights and evaluate test.

        A chunk (``max_epochs``) that ends before any evaluation returns a result with no metric
        and leaves the current weights in :attr:`model`. Call once per Trainer.
        """
        self._start()
        started = time.perf_counter() - self.elapsed
        net = wrap_model(self.model, self.dist)
        bar = tqdm(
            range(self.epoch, self.epochs),
            initial=self.epoch,
            total=self.epochs,
            desc=self.recipe.model_id,
            disable=not self._bars,
        )
        for epoch in bar:
            loss = self._train_epoch(net, epoch)
            self.epoch = epoch + 1
            record: dict[str, Any] = {
                "epoch": self.epoch,
                "step": self.step,
                "loss": loss,
                "lr": self.optimizer.param_groups[0]["lr"],
            }
            if self.epoch % self.recipe.eval_every == 0 or self.epoch == self.recipe.epochs:
                record[self.eval_split] = metrics = self._evaluate(self.eval_split)
                self._update_best(metrics)
                if self._plateau:
                    self.scheduler.step(metrics[self.recipe.metric])
            if self.scheduler is not None and self.interval == "epoch" and not self._plateau:
                self.scheduler.step()
            if self.align_every and self.epoch % self.align_every == 0:
                record["alignment"] = self._alignment()
            self.elapsed = record["time"] = time.perf_counter() - started
            self._save_checkpoint()
            self._log(record)
            best = self.best_metric if self.best_metric is not None else math.nan
            bar.set_postfix({"loss": f"{loss:.4g}", self.recipe.metric: f"{best:.4g}"})
            if self.progress and self.dist.is_main and not self._bars:
                print(
                    f"{self.recipe.model_id} epoch {self.epoch}/{self.epochs}: loss {loss:.4g}, "
                    f"best {self.eval_split} {self.recipe.metric} {best:.4g}, {self.elapsed:.0f} s",
                    file=sys.stderr,
                    flush=True,
                )
        bar.close()
        return self._finish(time.perf_counter() - started)

    @property
    def _bars(self) -> bool:
        """tqdm bars only on an interactive stderr; a log file gets one line per epoch instead."""
        return self.progress and self.dist.is_main and sys.stderr.isatty()

    @property
    def _plateau(self) -> bool:
        return isinstance(self.scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau)

    def _steps_per_epoch(self) -> int | None:
        try:
            return len(self.task.train_batches(0, torch.Generator().manual_seed(0)))  # type: ignore[arg-type]
        except TypeError:
            return None

    def _start(self) -> None:
        if self.resume:
            self._check_resumable()
            self._load_checkpoint()
            if self.dist.is_main and self.metrics_path.exists():
                lines = self.metrics_path.read_text().splitlines()
                kept = [ln for ln in lines if json.loads(ln).get("epoch", math.inf) <= self.epoch]
                self.metrics_path.write_text("".join(ln + "\n" for ln in kept))
            barrier(self.dist)
            return
        self._check_fresh()  # on every rank, so that none waits at the barrier for a refused run
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for stale in ("best.pt", "result.json", "last.pt", "model.safetensors", "config.json"):
                (self.run_dir / stale).unlink(missing_ok=True)
            self.metrics_path.write_text("")
            (self.run_dir / "recipe.json").write_text(json.dumps(self.recipe.to_dict(), indent=2) + "\n")
        barrier(self.dist)

    def _stored_recipe(self) -> Recipe | None:
        path = self.run_dir / "recipe.json"
        return Recipe(**json.loads(path.read_text())) if path.exists() else None

    def _check_resumable(self) -> None:
        if not self.checkpoint_path.exists():
            raise RunDirError(
                f"cannot resume: {self.checkpoint_path} does not exist; drop --resume to start a fresh run"
            )
        stored = self._stored_recipe()
        if stored is not None and stored.run_key() != self.recipe.run_key():
            raise RunDirError(
                f"cannot resume: {self.run_dir} holds a run of a different recipe ({stored.model_id}, key "
                f"{stored.run_key()}) than {self.recipe.model_id} (key {self.recipe.run_key()}); use "
                "another run folder, or --overwrite to discard it"
            )

    def _check_fresh(self) -> None:
        work = [name for name in WORK_FILES if (self.run_dir / name).exists()]
        if not work or self.overwrite:
            return
        stored = self._stored_recipe()
        if stored is not None and stored.run_key() == self.recipe.run_key():
            raise RunDirError(
                f"{self.run_dir} already holds a run of {self.recipe.model_id} ({', '.join(work)}); pass "
                "--resume to continue it or --overwrite to start over"
            )
        which = f"{stored.model_id}, key {stored.run_key()}" if stored else "an unknown recipe"
        raise RunDirError(
            f"{self.run_dir} holds a run of a different recipe ({which}) than {self.recipe.model_id} "
            f"(key {self.recipe.run_key()}); use another run folder, or --overwrite to discard it"
        )

    def _train_epoch(self, net: torch.nn.Module, epoch: int) -> float:
        net.train()
        batches = self.task.train_batches(epoch, self.generator)
        bar = tqdm(
            batches,
            total=len(batches) if hasattr(batches, "__len__") else None,  # type: ignore[arg-type]
            desc=f"epoch {epoch + 1}/{self.epochs}",
            leave=False,
            disable=not self._bars,
        )
        total, count = 0.0, 0
        for batch in bar:
            batch = shard_batch(move_to(batch, self.dist.device), self.dist.rank, self.dist.world_size)
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.task.loss(net, batch)
            value = self._global_value(loss)
            if not math.isfinite(value) or abs(value) > self.max_loss:
                bar.close()
                kept = "last good checkpoint kept" if self.epoch else "no checkpoint was written yet"
                raise TrainingDivergedError(
                    f"{self.recipe.model_id}: diverged at epoch {epoch + 1}; {kept}; lower the learning "
                    f"rate (training loss {value:g} at step {self.step + 1}, lr "
                    f"{self.optimizer.param_groups[0]['lr']:g}, divergence bound {self.max_loss:g}; "
                    f"checkpoint {self.checkpoint_path}; grad_clip also helps)"
                )
            loss.backward()
            if self.recipe.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.recipe.grad_clip)
            self.optimizer.step()
            self.step += 1
            if self.scheduler is not None and self.interval == "step":
                self.scheduler.step()
            total, count = total + value, count + 1
            bar.set_postfix(loss=f"{total / count:.4g}")
        return total / max(count, 1)

    def _global_value(self, loss: torch.Tensor) -> float:
        """The loss averaged over ranks, so every rank sees the same NaN check."""
        value = loss.detach().float()
        if self.dist.enabled:
            value = value.clone()
            torch.distributed.all_reduce(value)
            value /= self.dist.world_size
        return value.item()

    def _evaluate(self, split: str) -> dict[str, float]:
        was_training = self.model.training
        self.model.eval()
        try:
            with torch.no_grad():
                metrics = self.task.evaluate(self.model, split)
        finally:
            self.model.train(was_training)
        if self.recipe.metric not in metrics:
            raise KeyError(
                f"{type(self.task).__name__}.evaluate returned {sorted(metrics)} but the recipe "
                f"{self.recipe.model_id} selects on metric {self.recipe.metric!r}"
            )
        return {k: float(v) for k, v in metrics.items()}

    def _update_best(self, metrics: dict[str, float]) -> None:
        value = metrics[self.recipe.metric]
        if math.isnan(value):
            return
        better = self.best_metric is None or (
            value > self.best_metric if self.recipe.higher_is_better else value < self.best_metric
        )
        if not better:
            return
        self.best_metric, self.best_epoch, self.best_val = value, self.epoch, metrics
        self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        if self.dist.is_main:
            atomic_save(self.best_state, self.run_dir / "best.pt")
            if isinstance(self.model, DFAModel):
                self.model.save_pretrained(self.run_dir, model_id=self.recipe.model_id)

    def _alignment(self) -> dict[str, dict[str, float]]:
        if not hasattr(self.model, "_engine"):
            return {}
        try:
            inputs, targets, loss_fn = self.task.alignment_batch()
        except NotImplementedError:
            return {}
        was_training = self.model.training
        self.model.eval()
        try:
            device = self.dist.device
            return measure_alignment(self.model, move_to(inputs, device), move_to(targets, device), loss_fn)
        finally:
            self.model.train(was_training)

    def _save_checkpoint(self) -> None:
        if self.dist.is_main:
            state = {
                "version": CHECKPOINT_VERSION,
                "model_id": self.recipe.model_id,
                "model": self.model.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
                "rng": rng_states(self.generator),
                "epoch": self.epoch,
                "step": self.step,
                "elapsed": self.elapsed,
                "eval_split": self.eval_split,
                "best_metric": self.best_metric,
                "best_epoch": self.best_epoch,
                "best_val": self.best_val,
                "best_model": self.best_state,
            }
            atomic_save(state, self.checkpoint_path)
        barrier(self.dist)

    def _load_checkpoint(self) -> None:
        state = load_checkpoint(self.checkpoint_path)
        if state.get("model_id") != self.recipe.model_id:
            raise RunDirError(
                f"cannot resume: {self.checkpoint_path} belongs to {state.get('model_id')!r}, not "
                f"{self.recipe.model_id!r}; use another run folder, or --overwrite to discard it"
            )
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        restore_rng_states(state["rng"], self.generator)
        self.epoch, self.step, self.elapsed = state["epoch"], state["step"], state["elapsed"]
        self.eval_split = state["eval_split"]
        self.best_metric, self.best_epoch = state["best_metric"], state["best_epoch"]
        self.best_val, self.best_state = state["best_val"], state["best_model"]

    def _log(self, record: dict[str, Any]) -> None:
        if self.dist.is_main:
            with self.metrics_path.open("a") as f:
                f.write(strict_json(record) + "\n")

    def _finish(self, wall_time: float) -> TrainResult:
        if self.best_state is None:  # a chunk that ended before the first evaluation
            return TrainResult(None, None, wall_time=wall_time, run_dir=self.run_dir)
        self.model.load_state_dict(self.best_state)
        test = self._evaluate("test") if self.has_test else {}
        result = TrainResult(
            best_metric=self.best_metric,
            best_epoch=self.best_epoch,
            test_metrics=test,
            val_metrics=self.best_val,
            alignment=self._alignment(),
            wall_time=wall_time,
            run_dir=self.run_dir,
        )
        if self.dist.is_main:
            (self.run_dir / "result.json").write_text(strict_json(result.to_dict(), indent=2) + "\n")
        return result
