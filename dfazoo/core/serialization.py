"""The one model format: a folder with ``config.json`` and ``model.safetensors``.

An architecture may keep more files in the folder (e.g. a language model's ``tokenizer.json``):
it names them in ``extra_files`` and writes / reads them in the hooks ``save_extra(folder)`` /
``load_extra(folder)``, which every save and load calls after the weights.

``config.json`` holds the constructor arguments with the model's *current* method and
placement, its ``architecture`` and the ``dfazoo_version``; ``model.safetensors`` the whole
``state_dict`` (weights, feedback matrix, masks). Loading is strict: every mismatch is named.
Every entry point (``save_pretrained``, ``push_to_hub``, ``dfazoo.from_pretrained``,
``<Arch>.from_pretrained``, ``create_model(pretrained=True)``) goes through this module.

Zoo ids and Hub repos are resolved to a folder by a :class:`HubBackend` that the zoo layer
installs (dependency inversion: the engine never imports the release code statically).
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from safetensors import SafetensorError
from safetensors.torch import load_model as load_safetensors_model
from safetensors.torch import save_model as save_safetensors_model

from dfazoo.files import atomic_file, atomic_path
from dfazoo.version import __version__

if TYPE_CHECKING:
    from dfazoo.core.model import DFAModel

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
# Keys of config.json that describe the folder, not constructor arguments.
METADATA_KEYS: frozenset[str] = frozenset({"architecture", "dfazoo_version", "model_id"})


class ModelLoadError(RuntimeError):
    """A model folder, its config or its weights cannot be used; the message says why."""


class HubBackend(Protocol):
    """Turns zoo ids and Hub repo ids into local folders, and uploads folders."""

    def resolve_folder(self, name: str, *, org: str | None, revision: str | None) -> Path: ...

    def upload_folder(
        self, folder: Path, repo_id: str, *, private: bool, commit_message: str | None
    ) -> str: ...


# The module that installs the default backend when it is first needed: the zoo layer, which
# the engine may not import statically (it builds on the engine).
DEFAULT_HUB_BACKEND = "dfazoo.zoo.hub"
_backend: HubBackend | None = None


def set_hub_backend(backend: HubBackend) -> None:
    """Install the resolver of zoo ids and Hub repos (``dfazoo.zoo.hub`` does on import)."""
    global _backend
    _backend = backend


def hub_backend() -> HubBackend:
    """The installed backend, importing :data:`DEFAULT_HUB_BACKEND` on first use."""
    if _backend is None:
        importlib.import_module(DEFAULT_HUB_BACKEND)
    if _backend is None:
        raise ModelLoadError(f"{DEFAULT_HUB_BACKEND} did not install a Hub backend")
    return _backend


def bind_init_kwargs(cls: type, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """``cls.__init__``'s arguments by name, defaults applied and ``**kwargs`` flattened; ``{}``
    when they do not bind (``__init__`` then raises its own error)."""
    signature = inspect.signature(cls.__init__)
    try:
        bound = signature.bind(None, *args, **kwargs)
    except TypeError:
        return {}
    bound.apply_defaults()
    config: dict[str, Any] = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            config.update(value)
        elif kind is not inspect.Parameter.VAR_POSITIONAL:
            config[name] = value
    return config


def accepts(cls: type, name: str) -> bool:
    """Whether ``cls(...)`` takes a keyword argument ``name`` (by name or through ``**kwargs``)."""
    params = inspect.signature(cls.__init__).parameters
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _jsonable(key: str, value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_jsonable(key, v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(key, v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(
        f"constructor argument {key}={value!r} cannot be saved in {CONFIG_NAME}; pass plain values "
        "(numbers, strings, lists) to the constructor"
    )


def model_config(model: DFAModel, model_id: str | None = None) -> dict[str, Any]:
    """What ``config.json`` holds for ``model``: :meth:`DFAModel.get_config` plus metadata."""
    config = {k: _jsonable(k, v) for k, v in model.get_config().items()}
    config["architecture"] = model.arch_name
    config["dfazoo_version"] = __version__
    if model_id is not None:
        config["model_id"] = model_id
    return config


def write_folder(model: DFAModel, folder: str | os.PathLike[str], model_id: str | None = None) -> Path:
    """Write ``config.json``, ``model.safetensors`` and the architecture's extra files of ``model``
    into ``folder`` (each atomically)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; give a folder to save the model into")
    config = model_config(model, model_id)
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_file(folder / CONFIG_NAME) as f:
        f.write((json.dumps(config, indent=2, sort_keys=True) + "\n").encode())
    with atomic_path(folder / WEIGHTS_NAME) as tmp:
        save_safetensors_model(model, str(tmp))
    model.save_extra(folder)
    return folder


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    if not path.exists():
        raise ModelLoadError(f"{folder} has no {CONFIG_NAME}; save models with model.save_pretrained(folder)")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ModelLoadError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(config, dict) or "architecture" not in config:
        raise ModelLoadError(
            f"{path} names no 'architecture'; save models with model.save_pretrained(folder)"
        )
    return config


def build_from_config(cls: type[DFAModel], config: Mapping[str, Any]) -> DFAModel:
    """A freshly initialised ``cls`` from the constructor arguments in ``config``."""
    kwargs = {k: v for k, v in config.items() if k not in METADATA_KEYS and accepts(cls, k)}
    try:
        model = cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ModelLoadError(f"{CONFIG_NAME} does not build a {cls.__name__}: {err}") from err
    if "placement" in config and "placement" not in kwargs:
        model.set_placement(config["placement"])
    return model


def load_weights(model: DFAModel, weights: Path) -> None:
    """Load ``weights`` into ``model`` strictly, naming missing, unexpected and mis-shaped keys."""
    if not weights.exists():
        raise ModelLoadError(f"{weights.parent} has no {WEIGHTS_NAME} (weights are missing)")
    try:
        missing, unexpected = load_safetensors_model(model, str(weights), strict=False)
    except SafetensorError as err:
        raise ModelLoadError(
            f"{weights} is corrupted or truncated ({err}); re-download or re-save it"
        ) from err
    except RuntimeError as err:  # load_state_dict reports every shape mismatch by name
        raise ModelLoadError(f"{weights} does not match {CONFIG_NAME}: {err}") from err
    if missing or unexpected:
        raise ModelLoadError(
            f"{weights} does not match {CONFIG_NAME}: missing keys {sorted(missing)}, "
            f"unexpected keys {sorted(unexpected)}"
        )


def load_folder(folder: Path, cls: type[DFAModel]) -> DFAModel:
    """The model saved in ``folder``, built as ``cls``, in eval mode."""
    config = read_config(folder)
    if cls.arch_name and config["architecture"] != cls.arch_name:
        raise ModelLoadError(
            f"{folder} holds a {config['architecture']!r} model, not {cls.arch_name!r}; load it with "
            "dfazoo.from_pretrained"
        )
    model = build_from_config(cls, config)
    load_weights(model, folder / WEIGHTS_NAME)
    model.load_extra(folder)
    return model.eval()


def resolve_folder(
    id_or_path: str | os.PathLike[str], *, org: str | None = None, revision: str | None = None
) -> Path:
    """A local model folder as is; a zoo id or Hub repo id through the installed backend.
    ``revision`` (a Hub branch, tag or commit) is an error for a local folder."""
    if not isinstance(id_or_path, (str, os.PathLike)):
        raise TypeError(f"expected a zoo id, a Hub repo id or a folder path, got {type(id_or_path).__name__}")
    path = Path(id_or_path).expanduser()
    if path.is_dir():
        if revision is not None:
            raise ValueError(f"revision={revision!r} applies to Hub repos, not to the local folder {path}")
        return path
    return hub_backend().resolve_folder(str(id_or_path), org=org, revision=revision)
