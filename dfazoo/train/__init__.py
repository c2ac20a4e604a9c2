"""The one trainer (checkpoints, resume, DDP) and run plots (:mod:`dfazoo.train.plot`)."""

from dfazoo.train.trainer import MAX_LOSS, RunDirError, Trainer, TrainingDivergedError, TrainResult

__all__ = ["MAX_LOSS", "RunDirError", "TrainResult", "Trainer", "TrainingDivergedError"]
