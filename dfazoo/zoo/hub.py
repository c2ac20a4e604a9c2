"""Save and load zoo models: a local folder, a zoo id, or any Hugging Face Hub repo.

A model folder holds ``config.json`` (the constructor kwargs, the current method/placement,
``architecture`` and ``dfazoo_version``) and ``model.safetensors`` (the full state_dict: weights,
feedback matrix, masks). Loading is strict: every mismatch between the two is named.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path
from typing import Any

from huggingface_hub import constants as hf_constants
from huggingface_hub import snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from safetensors import SafetensorError
from safetensors.torch import load_model as load_safetensors_model
from safetensors.torch import save_model as save_safetensors_model

from dfazoo.core import DFAModel
from dfazoo.zoo.registry import get_architecture, get_recipe

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
CARD_NAME = "README.md"
DEFAULT_ORG = "dfazoo"


class ModelLoadError(RuntimeError):
    """A model folder, its config or its weights cannot be used; the message says why."""


class HubUnavailableError(ModelLoadError):
    """The Hub cannot be reached (offline mode, no network) and the repo is not cached."""


def repo_root() -> Path:
    """The source checkout holding this package (where ``model_cards/`` and ``eval/`` live)."""
    return Path(__file__).resolve().parents[2]


def zoo_root() -> Path:
    """Where ``model_cards/``, ``eval/results/zoo/`` and ``runs/`` live: ``$DFAZOO_ZOO_DIR``, else
    the source checkout."""
    return Path(os.environ.get("DFAZOO_ZOO_DIR") or repo_root())


def cards_dir() -> Path:
    return zoo_root() / "model_cards"


def hub_org(org: str | None = None) -> str:
    return org or os.environ.get("DFAZOO_HUB_ORG") or DEFAULT_ORG


def model_config(model: DFAModel, model_id: str | None = None) -> dict[str, Any]:
    """The constructor kwargs with the model's *current* method and placement."""
    config = dict(model._hub_mixin_config or {})
    params = inspect.signature(type(model).__init__).parameters
    config["method"] = model.method
    if "placement" in params:
        config["placement"] = model.placement
    config["architecture"] = model.arch_name
    from dfazoo import __version__

    config["dfazoo_version"] = __version__
    if model_id is not None:
        config["model_id"] = model_id
    return config


def save_model(model: DFAModel, folder: str | os.PathLike[str], model_id: str | None = None) -> Path:
    """Write ``config.json`` and ``model.safetensors`` into ``folder`` (created if needed)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = model_config(model, model_id)
    (folder / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    save_safetensors_model(model, str(folder / WEIGHTS_NAME))
    return folder


def _is_hub_repo_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~"))


def _download(repo_id: str, revision: str | None) -> Path:
    """Snapshot a Hub repo into the HF cache; ``$HF_ENDPOINT`` is read at call time."""
    try:
        path = snapshot_download(
            repo_id,
            revision=revision,
            endpoint=os.environ.get("HF_ENDPOINT") or None,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME],
            etag_timeout=5,
        )
    except (RepositoryNotFoundError, RevisionNotFoundError) as err:
        raise ModelLoadError(f"Hub repo {repo_id!r} (revision {revision or 'main'}) does not exist") from err
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as err:
        if hf_constants.is_offline_mode():
            raise HubUnavailableError(
                f"cannot download {repo_id!r}: HF_HUB_OFFLINE is set and it is not in the local HF "
                f"cache. Unset HF_HUB_OFFLINE, or pass a local model folder."
            ) from err
        endpoint = os.environ.get("HF_ENDPOINT") or hf_constants.ENDPOINT
        raise HubUnavailableError(
            f"cannot download {repo_id!r}: the Hub at {endpoint} is unreachable and the repo is not "
            "cached. Check the network, or pass a local folder."
        ) from err
    except (EntryNotFoundError, HfHubHTTPError, OSError) as err:
        raise HubUnavailableError(f"cannot download {repo_id!r} from the Hub: {err}") from err
    return Path(path)


def resolve_folder(
    id_or_path: str | os.PathLike[str], *, org: str | None = None, revision: str | None = None
) -> Path:
    """The local folder of a model: a folder as is, a zoo id's card folder, or a Hub download."""
    name = str(id_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    if path.exists():
        raise ModelLoadError(f"{name!r} is a file; pass the folder holding {CONFIG_NAME} and {WEIGHTS_NAME}")
    if _is_hub_repo_id(name) and not path.exists():
        return _download(name, revision)
    if os.sep in name or name.startswith((".", "~")):
        raise ModelLoadError(f"model folder {name!r} does not exist")
    get_recipe(name)  # raises UnknownModelError with close matches
    local = cards_dir() / name
    if (local / WEIGHTS_NAME).exists():
        return local
    return _download(f"{hub_org(org)}/{name}", revision)


def read_config(folder: Path) -> dict[str, Any]:
    path = folder / CONFIG_NAME
    if not path.exists():
        raise ModelLoadError(f"{folder} has no {CONFIG_NAME}; save models with dfazoo.save_model")
    try:
        config = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ModelLoadError(f"{path} is not valid JSON: {err}") from err
    if not isinstance(config, dict) or "architecture" not in config:
        raise ModelLoadError(f"{path} names no 'architecture'; save models with dfazoo.save_model")
    return config


def folder_model_id(folder: Path) -> str:
    """The zoo id of a model folder: its config's ``model_id``, else the folder's name."""
    return read_config(folder).get("model_id") or folder.name


def build_from_config(config: dict[str, Any]) -> DFAModel:
    """A freshly initialised model of the architecture and constructor kwargs in ``config``."""
    cls = get_architecture(config["architecture"])
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in config.items() if k in params and k != "self"}
    try:
        model = cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ModelLoadError(f"config.json does not build a {cls.__name__}: {err}") from err
    if "placement" in config and "placement" not in params:
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
        raise ModelLoadError(f"{weights} does not match config.json: {err}") from err
    if missing or unexpected:
        raise ModelLoadError(
            f"{weights} does not match config.json: missing keys {sorted(missing)}, "
            f"unexpected keys {sorted(unexpected)}"
        )


def load_folder(folder: Path) -> DFAModel:
    config = read_config(folder)
    model = build_from_config(config)
    load_weights(model, folder / WEIGHTS_NAME)
    return model.eval()


def from_pretrained(
    id_or_path: str | os.PathLike[str], *, org: str | None = None, revision: str | None = None
) -> DFAModel:
    """Load a zoo model from a local folder, a zoo id (local card, else ``<org>/<id>`` on the Hub)
    or a Hub repo id ``owner/name``. The model is returned in eval mode.
    """
    return load_folder(resolve_folder(id_or_path, org=org, revision=revision))
