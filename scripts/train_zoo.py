"""Train zoo recipes and release them: card folder, measured results, generated README.

    python scripts/train_zoo.py ID [ID ...] [--data-root D] [--seeds N] [--force] [--max-epochs E]
    python scripts/train_zoo.py --readme-only     # regenerate every card and the README zoo table

Writes ``model_cards/<id>/{config.json, model.safetensors, README.md}`` and
``eval/results/zoo/<id>.json``; runs (checkpoints, metrics) are the runner's,
``$DFAZOO_RUNS/<run_key>/`` (:mod:`dfazoo.train.runner`), so a finished table run of the same recipe is reused.
Released ids are skipped unless ``--force``; interrupted runs resume from their checkpoint.
"""

from __future__ import annotations

import argparse
import sys

import torch

from dfazoo.data.root import DatasetNotFoundError
from dfazoo.spec.registry import UnknownModelError, list_models
from dfazoo.zoo.cards import is_stale, read_results, update_readme_table, write_card
from dfazoo.zoo.hub import cards_dir, repo_root
from dfazoo.zoo.index import write_index
from dfazoo.zoo.publish import train_and_release


def regenerate_cards() -> None:
    """Rewrite every released card (e.g. after a card template change) and the README table."""
    folder = cards_dir()
    for model_id in list_models():
        if (folder / model_id / "model.safetensors").exists() and read_results(model_id) is not None:
            write_card(model_id)
            print(f"card regenerated: {folder / model_id / 'README.md'}")
            if is_stale(model_id):
                print(f"  warning: the {model_id} recipe changed since its release; retrain with --force")


def update_readme() -> None:
    readme = repo_root() / "README.md"
    if readme.exists() and update_readme_table(readme):
        print(f"zoo table updated in {readme}")
    if write_index():
        print("zoo index updated: dfazoo/zoo/index.json")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ids", nargs="*", help="zoo ids or glob patterns (e.g. 'gcn-cora-*')")
    parser.add_argument("--data-root", help="dataset folder (default: $DFAZOO_DATA, then the cache)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per model (value = mean over seeds)")
    parser.add_argument("--force", action="store_true", help="retrain and re-release released ids")
    parser.add_argument("--max-epochs", type=int, help="train in chunks: stop after this many epochs")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--readme-only", action="store_true", help="only regenerate cards and README table")
    args = parser.parse_args(argv)
    if args.readme_only:
        regenerate_cards()
        update_readme()
        return 0
    if not args.ids:
        parser.error("give at least one zoo id (see `dfazoo list`)")
    torch.set_num_threads(args.threads)
    ids = [m for pattern in args.ids for m in (list_models(pattern) if "*" in pattern else [pattern])]
    if not ids:
        parser.error(f"no zoo id matches {args.ids}")
    for model_id in ids:
        try:
            results = train_and_release(
                model_id,
                data_root=args.data_root,
                seeds=args.seeds,
                force=args.force,
                max_epochs=args.max_epochs,
            )
        except (UnknownModelError, DatasetNotFoundError) as err:
            print(f"train_zoo: error: {err}", file=sys.stderr)
            return 2
        if results is None:
            done = read_results(model_id) is not None
            print(
                f"{model_id}: {'already released (use --force)' if done else 'not finished; rerun to resume'}"
            )
        else:
            print(
                f"{model_id}: test {results['metric']} = {results['value']:.4g} -> {cards_dir() / model_id}"
            )
    update_readme()
    return 0


if __name__ == "__main__":
    sys.exit(main())
