"""The one trainer (checkpoints, resume, DDP) and run plots (:mod:`dfazoo.train.plot`)."""

from dfazoo.train.trainer import Trainer, TrainingDivergedError, TrainResult

__all__ = ["TrainResult", "Trainer", "TrainingDivergedError"]
