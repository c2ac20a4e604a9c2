"""Release zoo models: train a recipe, write its card folder and measured results, push to the Hub.

``train_and_release`` is what ``scripts/train_zoo.py`` runs; ``push_to_hub`` is what
``dfazoo publish`` and ``scripts/publish_to_hub.py`` run, for zoo card folders and for a user's
model folders alike.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import json
import os
from pathlib import Path
from typing import Any

from huggingface_hub import HfApi, get_token
from huggingface_hub import constants as hf_constants
from torch import nn

from dfazoo.core import METHODS, DFAModel
from dfazoo.core.serialization import model_config
from dfazoo.project import hub_org
from dfazoo.spec import Recipe, Task, build_model, make_task
from dfazoo.spec.registry import get_recipe, get_task, list_models
from dfazoo.stats import mean_std
from dfazoo.train import TrainingDivergedError
from dfazoo.train.checkpoint import load_checkpoint
from dfazoo.train.runner import RunRecord, default_root, run, run_folder
from dfazoo.zoo.cards import counterpart_ids, render_card, results_dir, write_card
from dfazoo.zoo.finetune import head_module
from dfazoo.zoo.hub import (
    CARD_NAME,
    CONFIG_NAME,
    WEIGHTS_NAME,
    cards_dir,
    extra_files,
    read_config,
    save_model,
)
from dfazoo.zoo.seeds import table_seeds
from dfazoo.zoo.user_card import RECIPE_NAME, RESULT_NAME, user_card

# What ``dfazoo publish`` uploads from a folder (a run folder also holds checkpoints and logs).
PUBLISHED_FILES: tuple[str, ...] = (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME, RECIPE_NAME, RESULT_NAME)


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
    ``<cards>/<id>/{config.json, model.safetensors, README.md}`` and ``<results>/<id>.json``
    (:func:`release_results`; ``mean``/``std`` are the mean and sample std over seeds). Skips ids already released unless ``force`` (which retrains from
    scratch); otherwise each seed's run is the runner's (``runs_folder``, default
    :func:`dfazoo.train.runner.default_root`): a finished run, e.g. a table's, is reused and an
    interrupted one resumes. Returns the results, or None when skipped or not finished.
    """
    recipe = get_recipe(model_id)
    results_folder = results_folder or results_dir()
    if (results_folder / f"{model_id}.json").exists() and not force:
        return None
    records = train_seeds(recipe, seeds, data_root, runs_folder, max_epochs, progress, force)
    if records is None:
        return None
    model = released_model(records[0])
    results = release_results(recipe, records, model, seeds)
    folder = (cards_folder or cards_dir()) / recipe.model_id
    results.update(release_extras(recipe, model, folder, data_root))
    write_release(recipe, results, model, cards_folder, results_folder)
    return results


def release_extras(recipe: Recipe, model: DFAModel, folder: Path, data_root: str | None) -> dict[str, Any]:
    """The task's extra card files (:meth:`Task.release_extras`, e.g. a NeRF's held-out render),
    written into ``folder``; the task is built only when its class defines the hook."""
    if get_task(recipe.task).release_extras is Task.release_extras:
        return {}
    folder.mkdir(parents=True, exist_ok=True)
    return make_task(recipe, data_root).release_extras(model, folder)


def set_aside(folder: Path) -> Path | None:
    """Rename an existing run folder to ``<name>.replaced-<time>`` so a forced retrain starts afresh
    without deleting the finished run (nothing is lost); the new name, or None if there was none."""
    if not folder.exists():
        return None
    target = folder.with_name(f"{folder.name}.replaced-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    folder.rename(target)
    return target


def train_seeds(
    recipe: Recipe,
    seeds: int,
    data_root: str | None = None,
    root: Path | None = None,
    max_epochs: int | None = None,
    progress: bool = True,
    force: bool = False,
) -> list[RunRecord] | None:
    """The runs of ``recipe`` at seeds recipe.seed, +1, ...; None until every one is finished."""
    records = []
    for k in range(seeds):
        seeded = dataclasses.replace(recipe, seed=recipe.seed + k)
        if force:
            set_aside(run_folder(seeded, root or default_root()))
        record = run(seeded, root=root, data_root=data_root, max_epochs=max_epochs, progress=progress)
        if record.diverged:
            raise TrainingDivergedError(record.error)
        records.append(record)
    return records if all(r.finished for r in records) else None


def released_model(record: RunRecord) -> DFAModel:
    """The best-validation weights of ``record``'s run, in eval mode."""
    model = build_model(record.recipe)
    model.load_state_dict(load_checkpoint(record.folder / "best.pt"))
    model.load_extra(record.folder)  # e.g. the tokenizer the run saved beside its weights
    return model.eval()


def _seed_entry(record: RunRecord) -> dict[str, Any]:
    metrics = record.test_metrics or record.val_metrics
    return {
        "seed": record.recipe.seed,
        "split": "test" if record.test_metrics else "val",
        "value": float(metrics[record.recipe.metric]),
        "metrics": metrics,
        "val_metrics": record.val_metrics,
        "best_epoch": record.best_epoch,
        "alignment": record.alignment,
        "wall_time": record.wall_time,
        "threads": record.threads,
        "cpus": record.cpus,
    }


def release_results(recipe: Recipe, records: list[RunRecord], model: DFAModel, seeds: int) -> dict[str, Any]:
    """The results file of a release: ``value`` (the released first seed's metric), ``mean``/``std``
    over the seeds trained, per-seed details, ``table_seeds`` (the seeds of the table row the released
    run was chosen from, and the rule: :func:`dfazoo.zoo.seeds.table_seeds`), alignment, wall time,
    command, config."""
    per_seed = [_seed_entry(r) for r in records]
    first = per_seed[0]
    mean, std = mean_std(s["value"] for s in per_seed)
    return {
        "model_id": recipe.model_id,
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
        "table_seeds": table_seeds(recipe, per_seed),
        "command": train_command(recipe.model_id, seeds),
        "config": model_config(model, recipe.model_id),
        "error_size": model.feedback.error_size,
        "head_replaceable": isinstance(_head_or_none(model), nn.Linear),
        "date": datetime.date.today().isoformat(),
    }


def refresh_table_seeds(model_id: str, results_folder: Path | None = None) -> bool:
    """Recompute a released model's ``table_seeds`` from the committed run records and its release
    record (both may be added after the release); True if its results file changed."""
    path = (results_folder or results_dir()) / f"{model_id}.json"
    results = json.loads(path.read_text())
    seeds = table_seeds(get_recipe(model_id), results.get("per_seed", []))
    if seeds == results.get("table_seeds"):
        return False
    results["table_seeds"] = seeds
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return True


def write_release(
    recipe: Recipe,
    results: dict[str, Any],
    model: DFAModel,
    cards_folder: Path | None = None,
    results_folder: Path | None = None,
) -> None:
    """Write the card folder and the results file, then refresh the counterparts' cards."""
    results_folder = results_folder or results_dir()
    card = render_card(recipe, results, results_folder)
    folder = save_model(model, (cards_folder or cards_dir()) / recipe.model_id, model_id=recipe.model_id)
    (folder / CARD_NAME).write_text(card)
    results_folder.mkdir(parents=True, exist_ok=True)
    (results_folder / f"{recipe.model_id}.json").write_text(
        json.dumps(results, indent=2, sort_keys=True) + "\n"
    )
    refresh_counterpart_cards(recipe.model_id, cards_folder, results_folder)


def _head_or_none(model: nn.Module) -> nn.Module | None:
    try:
        return head_module(model)
    except ValueError:
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


def _suggestion(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _looks_like_path(name: str) -> bool:
    return os.sep in name or name.startswith((".", "~"))


def _not_found(name: str, cards: Path) -> str:
    """Why ``name`` is neither an existing model folder nor a zoo card folder, with close matches."""
    if _looks_like_path(name):
        path = Path(name).expanduser()
        siblings = [p.name for p in path.parent.iterdir() if p.is_dir()] if path.parent.is_dir() else []
        close = difflib.get_close_matches(path.name, siblings, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(str(path.parent / c) for c in close)}?" if close else ""
        return f"model folder {name} does not exist{hint}"
    if name in list_models():
        return (
            f"zoo model {name!r} has no card folder under {cards}: it is not released in this "
            f"checkout; `{train_command(name)}` trains and releases it"
        )
    known = sorted(
        {*list_models(), *(p.name for p in cards.iterdir() if p.is_dir())}
        if cards.is_dir()
        else set(list_models())
    )
    hint = _suggestion(name, known) or "; `dfazoo list` shows the zoo ids"
    return f"{name!r} is neither a model folder nor a zoo id{hint}"


def card_folders(ids: list[str] | None = None, folder: Path | None = None) -> list[Path]:
    """The zoo card folders to publish: ``ids`` (each must be complete) or every complete one."""
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
        if _looks_like_path(model_id) or not path.is_dir():
            raise FileNotFoundError(_not_found(model_id, folder))
        missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME, CARD_NAME) if not (path / n).exists()]
        if missing:
            raise FileNotFoundError(
                f"card folder {path} lacks {', '.join(missing)}; `{train_command(model_id)}` releases it"
            )
        paths.append(path)
    return paths


def model_folder(path: Path) -> Path:
    """``path`` if it is a loadable model folder (``save_pretrained`` or a ``dfazoo train`` run)."""
    missing = [n for n in (CONFIG_NAME, WEIGHTS_NAME) if not (path / n).exists()]
    if missing:
        raise FileNotFoundError(
            f"{path} lacks {', '.join(missing)}: publish a folder written by model.save_pretrained(folder) "
            "or by a finished `dfazoo train` run"
        )
    read_config(path)  # names what is wrong with config.json
    return path


def _user_repo_id(path: Path, repo_id: str | None, org: str | None) -> str:
    name = repo_id or (f"{org}/{path.name}" if org else None)
    if name is None:
        raise ValueError(f"publishing {path} needs a Hub repo: pass --repo-id owner/name (or --org owner)")
    if name.count("/") != 1 or not all(name.split("/")):
        raise ValueError(f"repo id {name!r} is not of the form owner/name")
    return name


def publish_plan(
    names: list[str] | None = None,
    *,
    org: str | None = None,
    folder: Path | None = None,
    repo_id: str | None = None,
) -> list[tuple[str, Path]]:
    """(Hub repo id, folder) pairs for ``names``: zoo ids (their card folders, to ``<org>/<id>``)
    or model folders (to ``repo_id``, else ``<org>/<folder name>``); every card folder by default."""
    names = list(names or [])
    if repo_id is not None and len(names) != 1:
        raise ValueError("--repo-id names one Hub repo: give exactly one folder to publish")
    if not names:
        return [(f"{hub_org(org)}/{path.name}", path) for path in card_folders(None, folder)]
    plan = []
    for name in names:
        path = Path(name).expanduser()
        if path.is_dir():
            plan.append((_user_repo_id(path, repo_id, org), model_folder(path)))
        else:
            card = card_folders([name], folder)[0]
            plan.append((repo_id or f"{hub_org(org)}/{card.name}", card))
    return plan


def push_to_hub(
    ids: list[str] | None = None,
    *,
    org: str | None = None,
    dry_run: bool = False,
    folder: Path | None = None,
    private: bool = False,
    repo_id: str | None = None,
) -> list[tuple[str, Path]]:
    """Create or update one Hub repo per folder of :func:`publish_plan`; returns its pairs.

    A model folder without a README.md gets the card of :func:`dfazoo.zoo.user_card.user_card`
    (written into the folder, then uploaded); only :data:`PUBLISHED_FILES` are uploaded, never
    training checkpoints. The token comes from the standard Hugging Face env/config
    (``HF_TOKEN``, ``hf auth login``). With ``dry_run`` nothing is written or sent.
    """
    plan = publish_plan(ids, org=org, folder=folder, repo_id=repo_id)
    if dry_run:
        return plan
    if hf_constants.is_offline_mode():
        raise ConnectionError("cannot publish: HF_HUB_OFFLINE is set; unset it to upload (or use --dry-run)")
    if get_token() is None:
        raise PermissionError("no Hugging Face token: set HF_TOKEN or run `hf auth login` (or use --dry-run)")
    api = HfApi()
    from dfazoo.version import __version__

    for target, path in plan:
        if not (path / CARD_NAME).exists():
            (path / CARD_NAME).write_text(user_card(path, target))
        api.create_repo(target, repo_type="model", exist_ok=True, private=private)
        api.upload_folder(
            repo_id=target,
            folder_path=path,
            repo_type="model",
            allow_patterns=[*PUBLISHED_FILES, *extra_files()],
            commit_message=f"dfazoo {__version__}: release {path.name}",
        )
    return plan
