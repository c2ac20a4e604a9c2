"""Zoo ids and Hub repos: where a model folder comes from, and where it is uploaded to.

The folder format itself lives in :mod:`dfazoo.core.serialization`; this module resolves a zoo
id (its card folder under ``model_cards/``, else ``<org>/<id>`` on the Hub) or a Hub repo id
``owner/name`` to a local folder, and installs itself as the engine's Hub backend on import.
``huggingface_hub`` is imported only when the Hub is actually used.
"""

from __future__ import annotations

import os
from pathlib import Path

from dfazoo.core import ConvertedModel, DFAModel
from dfazoo.core.convert import load_converted
from dfazoo.core.serialization import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    ModelLoadError,
    read_config,
    resolve_folder,
    set_hub_backend,
)
from dfazoo.core.serialization import (
    load_folder as load_folder_as,
)
from dfazoo.project import cards_dir, hub_org, repo_root, zoo_root
from dfazoo.spec import domains, get_architecture, get_recipe
from dfazoo.version import __version__

CARD_NAME = "README.md"

__all__ = [
    "CARD_NAME",
    "cards_dir",
    "repo_root",
    "zoo_root",
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "HubUnavailableError",
    "ModelLoadError",
    "folder_model_id",
    "from_pretrained",
    "load_folder",
    "read_config",
    "resolve_folder",
    "save_model",
]


class HubUnavailableError(ModelLoadError):
    """The Hub cannot be reached (offline mode, no network) and the repo is not cached."""


def save_model(model: DFAModel, folder: str | os.PathLike[str], model_id: str | None = None) -> Path:
    """``model.save_pretrained(folder, model_id=model_id)``: the one model format."""
    return model.save_pretrained(folder, model_id=model_id)


def _is_hub_repo_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~"))


def extra_files() -> list[str]:
    """Every registered architecture's extra model files (e.g. ``tokenizer.json``)."""
    return sorted({f for d in domains().values() for cls in d.architectures for f in cls.extra_files})


def _download(repo_id: str, revision: str | None) -> Path:
    """Snapshot a Hub repo into the HF cache; ``$HF_ENDPOINT`` is read at call time."""
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

    try:
        path = snapshot_download(
            repo_id,
            revision=revision,
            endpoint=os.environ.get("HF_ENDPOINT") or None,
            allow_patterns=[CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, *extra_files()],
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


class ZooHub:
    """The engine's Hub backend: zoo ids and Hub repo ids to folders, folders to Hub repos."""

    def resolve_folder(self, name: str, *, org: str | None, revision: str | None) -> Path:
        path = Path(name).expanduser()
        if path.exists():
            raise ModelLoadError(
                f"{name!r} is a file; pass the folder holding {CONFIG_NAME} and {WEIGHTS_NAME}"
            )
        if _is_hub_repo_id(name):
            return _download(name, revision)
        if os.sep in name or name.startswith((".", "~")):
            raise ModelLoadError(f"model folder {name!r} does not exist")
        get_recipe(name)  # raises UnknownModelError with close matches
        local = cards_dir() / name
        if revision is None and (local / WEIGHTS_NAME).exists():
            return local  # a revision asks for that Hub revision, never the local card
        return _download(f"{hub_org(org)}/{name}", revision)

    def upload_folder(self, folder: Path, repo_id: str, *, private: bool, commit_message: str | None) -> str:
        from huggingface_hub import HfApi, get_token
        from huggingface_hub import constants as hf_constants

        if hf_constants.is_offline_mode():
            raise ConnectionError("cannot upload: HF_HUB_OFFLINE is set; unset it to upload")
        if get_token() is None:
            raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login`")
        api = HfApi()
        api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=folder,
            repo_type="model",
            commit_message=commit_message or f"dfazoo {__version__}: upload {folder.name}",
        )
        return f"{hf_constants.ENDPOINT}/{repo_id}"


set_hub_backend(ZooHub())


def folder_model_id(folder: Path) -> str:
    """The zoo id of a model folder: its config's ``model_id``, else the folder's name."""
    return read_config(folder).get("model_id") or folder.name


def load_folder(folder: Path) -> DFAModel:
    """The model saved in ``folder``, built as the architecture its ``config.json`` names."""
    architecture = read_config(folder)["architecture"]
    if architecture == ConvertedModel.arch_name:
        return load_converted(folder)
    return load_folder_as(folder, get_architecture(architecture))


def from_pretrained(
    id_or_path: str | os.PathLike[str], *, org: str | None = None, revision: str | None = None
) -> DFAModel:
    """Load a zoo model from a local folder, a zoo id (local card, else ``<org>/<id>`` on the Hub)
    or a Hub repo id ``owner/name``. The model is returned in eval mode.

    ``revision`` (branch, tag or commit) loads that revision from the Hub, also for a zoo id
    whose card is local; with a local folder it is an error.
    """
    return load_folder(resolve_folder(id_or_path, org=org, revision=revision))
