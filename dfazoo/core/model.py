"""Base class of every dfazoo architecture: one feedback matrix, switchable method/placement."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from dfazoo.core import serialization
from dfazoo.core.feedback import FeedbackMatrix
from dfazoo.core.feedback_config import FeedbackConfig
from dfazoo.core.points import PLACEMENTS, DFAEngine, FeedbackPoint, OutputHook

M = TypeVar("M", bound="DFAModel")


class DFAModel(nn.Module):
    """Subclasses build their layers with :class:`FeedbackPoint` and one :class:`OutputHook`,
    then call ``self.setup_feedback(error_size, **feedback)`` as the last step of ``__init__``,
    where ``**feedback`` are the :class:`FeedbackConfig` fields the constructor passes on and
    ``feedback_defaults`` the architecture's own defaults for them. The matrix covers every
    candidate point, so switching placement or method never redraws it.

    The constructor's arguments are recorded, so :meth:`save_pretrained` writes a folder that
    :meth:`from_pretrained` (and ``dfazoo.from_pretrained``) rebuilds exactly, in the current
    method and placement.
    """

    arch_name: ClassVar[str] = ""
    # Files besides config.json and model.safetensors that save_extra writes (fetched from the Hub too).
    extra_files: ClassVar[tuple[str, ...]] = ()
    feedback_defaults: ClassVar[dict[str, Any]] = {}

    def __new__(cls, *args: Any, **kwargs: Any) -> DFAModel:
        self = super().__new__(cls)
        self.__dict__["_init_kwargs"] = serialization.bind_init_kwargs(cls, args, kwargs)
        return self

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this model, with every feedback argument
        at its current value (what ``config.json`` holds, less the metadata)."""
        return {**self._init_kwargs, **dataclasses.asdict(self.feedback_config)}

    def update_config(self, **changes: Any) -> None:
        """Record constructor arguments changed after construction (e.g. a new output size)."""
        self._init_kwargs.update(changes)

    def save_pretrained(self, folder: str | os.PathLike[str], *, model_id: str | None = None) -> Path:
        """Write ``config.json`` and ``model.safetensors`` into ``folder``; returns the folder."""
        return serialization.write_folder(self, folder, model_id)

    def save_extra(self, folder: Path) -> None:
        """Hook: write this architecture's :attr:`extra_files` into ``folder`` (none by default)."""

    def load_extra(self, folder: Path) -> None:
        """Hook: read back what :meth:`save_extra` wrote, after the weights (nothing by default)."""

    @classmethod
    def from_pretrained(
        cls: type[M],
        id_or_path: str | os.PathLike[str],
        *,
        org: str | None = None,
        revision: str | None = None,
    ) -> M:
        """Load a saved ``cls``: a local folder, a zoo id or a Hub repo id. Eval mode."""
        folder = serialization.resolve_folder(id_or_path, org=org, revision=revision)
        return serialization.load_folder(folder, cls)  # type: ignore[return-value]

    def push_to_hub(self, repo_id: str, *, private: bool = False, commit_message: str | None = None) -> str:
        """Save this model and upload it as the Hub model repo ``repo_id``; returns its URL."""
        with tempfile.TemporaryDirectory() as tmp:
            folder = self.save_pretrained(Path(tmp) / repo_id.rpartition("/")[2])
            return serialization.hub_backend().upload_folder(
                folder, repo_id, private=private, commit_message=commit_message
            )

    def setup_feedback(self, error_size: int, **feedback: Any) -> None:
        """Draw the feedback matrix for an output of ``error_size`` and bind every point to it.

        ``feedback``: :class:`FeedbackConfig` fields, over the class's ``feedback_defaults``;
        an unknown key raises ``TypeError``.
        """
        config = self.feedback_config = FeedbackConfig.from_kwargs(**{**self.feedback_defaults, **feedback})
        points = [m for m in self.modules() if isinstance(m, FeedbackPoint)]
        hooks = [m for m in self.modules() if isinstance(m, OutputHook)]
        if len(hooks) != 1:
            raise ValueError(f"{type(self).__name__} needs exactly one OutputHook, found {len(hooks)}")
        l_max = max([p.size for p in points], default=1)
        self.feedback = FeedbackMatrix(
            l_max, error_size, config.feedback_init, config.seed, config.feedback_norm
        )
        self._engine = DFAEngine(self.feedback, config.error_reduction)
        for name, module in self.named_modules():
            if isinstance(module, (FeedbackPoint, OutputHook)):
                module._engine = self._engine
            if isinstance(module, FeedbackPoint):
                module.point_name = name
        self.set_placement(config.placement)
        self.set_method(config.method)

    @property
    def method(self) -> str:
        return self._engine.method

    @property
    def placement(self) -> str:
        return self.feedback_config.placement

    def set_method(self, method: str) -> DFAModel:
        """Train the same model with ``bp``, ``dfa`` or ``shallow`` (only the top layer)."""
        self.feedback_config = dataclasses.replace(self.feedback_config, method=method)
        self._engine.method = method
        return self

    def set_placement(self, placement: str) -> DFAModel:
        """``macro``: points tagged ``block``; ``micro``: also those tagged ``sublayer``."""
        self.feedback_config = dataclasses.replace(self.feedback_config, placement=placement)
        for point in self.feedback_points(active_only=False).values():
            point.active = point.tag in PLACEMENTS[placement]
        return self

    def feedback_points(self, active_only: bool = True) -> dict[str, FeedbackPoint]:
        return {
            name: m
            for name, m in self.named_modules()
            if isinstance(m, FeedbackPoint) and (m.active or not active_only)
        }

    def feedback_matrices(self) -> dict[str, torch.Tensor]:
        """{point name: the B_i (l_i x e) actually used} for the active points."""
        return {name: self.feedback.slice_for(p.size) for name, p in self.feedback_points().items()}
