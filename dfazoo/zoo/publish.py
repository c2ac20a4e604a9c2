"""Release zoo models: train a recipe, write its card folder and measured results, push to the Hub.

``train_and_release`` is what ``scripts/train_zoo.py`` runs; ``push_to_hub`` is what
``dfazoo publish`` and ``scripts/publish_to_hub.py`` run.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, get_token
from huggingface_hub import constants as hf_constants
from torch import nn

from dfazoo.core import METHODS
from dfazoo.core.serialization import model_config
from dfazoo.project import hub_org
from dfazoo.spec import make_task
from dfazoo.spec.registry import get_recipe
from dfazoo.stats import mean_std
from dfazoo.train import Trainer
from dfazoo.zoo.cards import counterpart_ids, render_card, results_dir, write_card
from dfazoo.zoo.finetune import head_module
from dfazoo.zoo.hub import CARD_NAME, WEIGHTS_NAME, cards_dir, save_model, zoo_root


def train_command(model_id: str, seeds: int = 1) -> str:
    return f"python scripts/train_zoo.py {model_id}" + (f" --seeds {seeds}" if seeds > 1 else "")


def train_and_release(
    model_id: str,
    *,
    data_root: str | None = None,
    seeds: int = 1,
    force: bool = False,
    cards_folder: Path | None = None,
    results_folder: Path | None = None,
    runs_folder: Path | None = None,
    max_epochs: int | None = None,
    progress: bool = True,
) -> dict[str, Any] | None:
    """Train ``model_id`` with ``seeds`` seeds (recipe.seed, +1, ...) and release the first.

    ``max_epochs`` trains in chunks: runs stop after that many epochs in total and nothing is
    released until a rerun completes ``recipe.epochs``. A release writes
    ``<cards>/<id>/{config.json, model.safetensors, README.md}`` and
    ``<results>/<id>.json`` (``value``: the released weights' test metric; ``mean``/``std`` (sample std) over
    seeds; per-seed details; alignment at release; wall time; command). Skips ids already
    released unless ``force`` (which retrains from scratch); otherwise each seed's run resumes
    from its checkpoint under ``<runs>/<id>/seed<k>``. Returns the results, or None when
    skipped or not finished.
    """
    recipe = get_recipe(model_id)
    results_folder = results_folder or results_dir()
    results_path = results_folder / f"{model_id}.json"
    if results_path.exists() and not force:
        return None
    runs_folder = runs_folder or zoo_root() / "runs"
    per_seed, released, finished = [], None, True
    for k in range(seeds):
        seeded = dataclasses.replace(recipe, seed=recipe.seed + k)
        task = make_task(seeded, data_root)
        trainer = Trainer(
            seeded,
            runs_folder / model_id / f"seed{seeded.seed}",
            data_root=data_root,
            task=task,
            progress=progress,
            resume=not force,
            max_epochs=max_epochs,
        )
        result = trainer.fit()
        if trainer.epoch < recipe.epochs:
            finished = False
            continue
        split = "test" if result.test_metrics else "val"
        metrics = result.test_metrics or result.val_metrics
        per_seed.append(
            {
                "seed": seeded.seed,
                "split": split,
                "value": float(metrics[recipe.metric]),
                "metrics": metrics,
                "val_metrics": result.val_metrics,
                "best_epoch": result.best_epoch,
                "alignment": result.alignment,
                "wall_time": result.wall_time,
            }
        )
        if released is None:
            released = trainer.model
    if not finished:
        return None
    assert released is not None
    first = per_seed[0]
    mean, std = mean_std(s["value"] for s in per_seed)
    results = {
        "model_id": model_id,
        "recipe": recipe.to_dict(),
        "domain": recipe.domain,
        "dataset": recipe.dataset,
        "metric": recipe.metric,
        "split": first["split"],
        "higher_is_better": recipe.higher_is_better,
        "value": first["value"],
        "mean": mean,
        "std": std,
        "seeds": [s["seed"] for s in per_seed],
        "seed": first["seed"],
        "test_metrics": first["metrics"],
        "val_metrics": first["val_metrics"],
        "best_epoch": first["best_epoch"],
        "alignment": first["alignment"],
        "wall_time": sum(s["wall_time"] for s in per_seed),
        "per_seed": per_seed,
        "command": train_command(model_id, seeds),
        "config": model_config(released, model_id),
        "error_size": released.feedback.error_size,
        "head_replaceable": isinstance(_head_or_none(released), nn.Linear),
        "date": datetime.date.today().isoformat(),
    }
    card = render_card(recipe, results, results_folder)
    folder = save_model(released.eval(), (cards_folder or cards_dir()) / model_id, model_id=model_id)
    (folder / CARD_NAME).write_text(card)
    results_folder.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    refresh_counterpart_cards(model_id, cards_folder, results_folder)
    return results


def _head_or_none(model: nn.Module) -> nn.Module | None:
    try:
        return head_module(model)
    except AttributeError:
        return None


def refresh_counterpart_cards(
    model_id: str, cards_folder: Path | None = None, results_folder: Path | None = None
) -> None:
    """Regenerate the cards of ``model_id``'s released counterparts, which cite its results."""
    folder = cards_folder or cards_dir()
    recipe = get_recipe(model_id)
    ids = [c for m in METHODS if m != recipe.method for c in counterpart_ids(recipe, m)]
    for mid in ids:
        if (folder / mid / WEIGHTS_NAME).exists() and (
            (results_folder or results_dir()) / f"{mid}.json"
        ).exists():
            write_card(mid, folder / mid, results_folder)


def card_folders(ids: list[str] | None = None, folder: Path | None = None) -> list[Path]:
    """The card folders to publish: ``ids`` (each must be complete) or every complete one."""
    folder = folder or cards_dir()
    if not ids:
        found = (
            [p for p in sorted(folder.iterdir()) if (p / WEIGHTS_NAME).exists()] if folder.is_dir() else []
        )
        if not found:
            raise FileNotFoundError(f"no card folder with {WEIGHTS_NAME} under {folder}; train models first")
        ids = [p.name for p in found]
    paths = []
    for model_id in ids:
        path = folder / model_id
        missing = [n for n in ("config.json", WEIGHTS_NAME, CARD_NAME) if not (path / n).exists()]
        if missing:
            raise FileNotFoundError(
                f"card folder {path} lacks {', '.join(missing)}; run `python scripts/train_zoo.py {model_id}`"
            )
        paths.append(path)
    return paths


def push_to_hub(
    ids: list[str] | None = None,
    *,
    org: str | None = None,
    dry_run: bool = False,
    folder: Path | None = None,
    private: bool = False,
) -> list[tuple[str, Path]]:
    """Create or update one Hub repo ``<org>/<id>`` per card folder; returns (repo id, folder) pairs.

    The token comes from the standard Hugging Face env/config (``HF_TOKEN``, ``hf auth login``).
    With ``dry_run`` nothing is sent.
    """
    org = hub_org(org)
    plan = [(f"{org}/{path.name}", path) for path in card_folders(ids, folder)]
    if dry_run:
        return plan
    if hf_constants.is_offline_mode():
        raise ConnectionError("cannot publish: HF_HUB_OFFLINE is set; unset it to upload (or use --dry-run)")
    if get_token() is None:
        raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (or use --dry-run)")
    api = HfApi()
    from dfazoo.version import __version__

    for repo_id, path in plan:
        api.create_repo(repo_id, repo_type="model", exist_ok=True, private=private)
        api.upload_folder(
            repo_id=repo_id,
            folder_path=path,
            repo_type="model",
            commit_message=f"dfazoo {__version__}: release {path.name}",
        )
    return plan
