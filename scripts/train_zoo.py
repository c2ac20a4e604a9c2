"""Reproduce zoo models (train, compare with the card), or release them (an explicit step).

    python scripts/train_zoo.py ID [ID ...] [--seeds N] [--runs DIR]   # reproduce: writes no card
    python scripts/train_zoo.py ID [ID ...] --release [--seeds N] [--force] [--max-epochs E]
    python scripts/train_zoo.py --readme-only     # regenerate every card and the README zoo table

Runs (checkpoints, metrics) are the runner's, ``<runs>/<run_key>/`` (default ``$DFAZOO_RUNS``,
:mod:`dfazoo.train.runner`): a finished run of the same recipe is reused (pass an empty ``--runs``
folder to train afresh) and an interrupted one resumes from its checkpoint.

Reproducing (the default) trains the seeds (as many as the release has) and prints each
measured value beside the released one; it never writes ``model_cards/`` or ``eval/results/``.
``--release`` writes ``model_cards/<id>/{config.json, model.safetensors, README.md}`` and
``eval/results/zoo/<id>.json``; released ids are skipped unless ``--force``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from dfazoo.data.root import DatasetNotFoundError
from dfazoo.spec.registry import UnknownModelError, get_recipe, list_models
from dfazoo.stats import mean_std
from dfazoo.train import TrainingDivergedError
from dfazoo.zoo.cards import is_stale, read_results, update_readme_table, write_card
from dfazoo.zoo.hub import cards_dir, zoo_root
from dfazoo.zoo.index import write_index
from dfazoo.zoo.publish import refresh_table_seeds, train_and_release, train_seeds


def regenerate_cards() -> None:
    """Rewrite every released card (e.g. after a card template change) and the README table."""
    folder = cards_dir()
    for model_id in list_models():
        if (folder / model_id / "model.safetensors").exists() and read_results(model_id) is not None:
            refresh_table_seeds(model_id)
            write_card(model_id)
            print(f"card regenerated: {folder / model_id / 'README.md'}")
            if is_stale(model_id):
                print(
                    f"  warning: the {model_id} recipe changed since its release; retrain with --release --force"
                )


def update_readme() -> None:
    readme = zoo_root() / "README.md"  # the checkout's, unless $DFAZOO_ZOO_DIR points elsewhere
    if readme.exists() and update_readme_table(readme):
        print(f"zoo table updated in {readme}")


def reproduce(model_id: str, args: argparse.Namespace) -> bool | None:
    """Train ``model_id``'s seeds through the runner and print measured vs released values.

    ``args``: the script's options (``--seeds``, default the release's count; ``--data-root``,
    ``--runs``, ``--max-epochs``). Writes nothing but run folders. Returns whether every seed matches its released value within
    the recipe's tolerance (True when nothing is released to compare with), None while unfinished.
    """
    recipe, released = get_recipe(model_id), read_results(model_id)
    seeds = args.seeds or (len(released["seeds"]) if released else 1)
    records = train_seeds(recipe, seeds, args.data_root, args.runs, args.max_epochs)
    if records is None:
        print(f"{model_id}: not finished; rerun to resume")
        return None
    card = {s["seed"]: s["value"] for s in released["per_seed"]} if released else {}
    ok = True
    for record in records:
        value = record.test if record.test is not None else record.val
        seed = record.recipe.seed
        if seed in card:
            same = abs(value - card[seed]) <= recipe.tolerance
            ok &= same
            verdict = f"card {card[seed]:.6g}: {'matches' if same else 'DIFFERS'}"
        else:
            verdict = "no released value for this seed"
        print(f"{model_id} seed {seed}: {recipe.metric} {value:.6g} ({verdict}) run {record.folder}")
    if len(records) > 1:
        mean, std = mean_std(r.test if r.test is not None else r.val for r in records)
        print(f"{model_id}: mean ± sample std over {len(records)} seeds {mean:.6g} ± {std:.3g}")
    return ok


def release(model_id: str, args: argparse.Namespace) -> None:
    results = train_and_release(
        model_id,
        data_root=args.data_root,
        seeds=args.seeds or 1,
        force=args.force,
        runs_folder=args.runs,
        max_epochs=args.max_epochs,
    )
    if results is None:
        done = read_results(model_id) is not None
        print(f"{model_id}: {'already released (use --force)' if done else 'not finished; rerun to resume'}")
    else:
        print(f"{model_id}: test {results['metric']} = {results['value']:.4g} -> {cards_dir() / model_id}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ids", nargs="*", help="zoo ids or glob patterns (e.g. 'gcn-cora-*')")
    parser.add_argument("--data-root", help="dataset folder (default: $DFAZOO_DATA, then the cache)")
    parser.add_argument(
        "--seeds", type=int, help="seeds per model (default: the release's count to reproduce, 1 to release)"
    )
    parser.add_argument("--runs", type=Path, help="root of the run folders (default: $DFAZOO_RUNS)")
    parser.add_argument(
        "--release", action="store_true", help="write model_cards/<id> and eval/results/zoo/<id>.json"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --release: retrain from scratch (the finished run folder is kept as <key>.replaced-<time>) and re-release",
    )
    parser.add_argument("--max-epochs", type=int, help="train in chunks: stop after this many epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--readme-only", action="store_true", help="only regenerate cards and README table")
    args = parser.parse_args(argv)
    if args.readme_only:
        regenerate_cards()
        update_readme()
        if write_index():  # the package's index of recipes, not a zoo folder's file
            print("zoo index updated: dfazoo/zoo/index.json")
        return 0
    if not args.ids:
        parser.error("give at least one zoo id (see `dfazoo list`)")
    if args.force and not args.release:
        parser.error("--force re-releases: it needs --release")
    torch.set_num_threads(args.threads)
    ids = [m for pattern in args.ids for m in (list_models(pattern) if "*" in pattern else [pattern])]
    if not ids:
        parser.error(f"no zoo id matches {args.ids}")
    all_match = True
    for model_id in ids:
        try:
            if args.release:
                release(model_id, args)
            else:
                matched = reproduce(model_id, args)
                all_match &= matched is not False
        except (UnknownModelError, DatasetNotFoundError, TrainingDivergedError) as err:
            print(f"train_zoo: error: {err}", file=sys.stderr)
            return 2
    if args.release:
        update_readme()
    return 0 if all_match else 1


if __name__ == "__main__":
    sys.exit(main())
