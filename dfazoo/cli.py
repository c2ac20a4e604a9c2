"""The ``dfazoo`` command: list, inspect, evaluate, train, align, publish, plot, demo."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from dfazoo.core import METHODS, PLACEMENTS
from dfazoo.data.root import DatasetNotFoundError
from dfazoo.project import DEFAULT_HUB_ORG
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.registry import UnknownModelError, get_recipe, list_models
from dfazoo.train import TrainingDivergedError
from dfazoo.zoo.hub import ModelLoadError

# Errors a user can fix from the message alone: printed as one line, exit status 2 (set
# DFAZOO_DEBUG=1 to get the traceback instead).
USER_ERRORS = (
    UnknownModelError,
    ModelLoadError,
    DatasetNotFoundError,
    TrainingDivergedError,
    OSError,
    ValueError,
    KeyError,
)


def _cmd_list(args: argparse.Namespace) -> int:
    from dfazoo.zoo.cards import read_results

    ids = list_models(args.pattern, domain=args.domain, method=args.method)
    if not ids:
        print("no model matches", file=sys.stderr)
        return 1
    for model_id in ids:
        recipe, results = get_recipe(model_id), read_results(model_id)
        value = f"{results['value']:.4g}" if results else "not trained"
        print(f"{model_id:<40} {recipe.domain:<7} {recipe.metric:<10} {value}")
    return 0


def _cmd_zoo_table(args: argparse.Namespace) -> int:
    from dfazoo.zoo.cards import update_readme_table, zoo_table
    from dfazoo.zoo.hub import repo_root

    if args.write_readme is None:
        print(zoo_table())
        return 0
    readme = Path(args.write_readme) if args.write_readme else repo_root() / "README.md"
    if not update_readme_table(readme):
        raise ValueError(f"{readme} has no <!-- zoo-table --> ... <!-- /zoo-table --> markers")
    print(f"zoo table updated in {readme}")
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    from dfazoo.zoo.cards import read_results
    from dfazoo.zoo.hub import cards_dir

    recipe = get_recipe(args.id)
    card = cards_dir() / recipe.model_id
    info = {
        "recipe": recipe.to_dict(),
        "card": str(card) if (card / "model.safetensors").exists() else None,
        "results": read_results(recipe.model_id),
    }
    print(json.dumps(info, indent=2, default=str))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from dfazoo.zoo.evaluate import evaluate_model, matches_card

    result = evaluate_model(args.id, args.data_root, org=args.org, revision=args.revision)
    ok = matches_card(result, get_recipe(result["model"]))
    if args.json:
        print(json.dumps(result))
    else:
        card = "no card" if result["card_value"] is None else f"{result['card_value']:.6g}"
        verdict = "matches the card" if ok else "DIFFERS from the card"
        name = f"{result['model']} {result['dataset']} {result['metric']}"
        print(f"{name}: {result['value']:.6g} (card: {card}) {verdict}")
    return 0 if ok else 1


def _load_recipe(name: str) -> Recipe:
    """A registered id, or a recipe JSON file (e.g. a run's ``recipe.json``)."""
    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        return Recipe(**json.loads(path.read_text()))
    return get_recipe(name)


def _cmd_train(args: argparse.Namespace) -> int:
    from dfazoo.train import Trainer
    from dfazoo.train.distributed import shutdown_distributed
    from dfazoo.zoo.cards import counterpart_ids
    from dfazoo.zoo.hub import zoo_root

    recipe = _load_recipe(args.recipe)
    if args.method and args.method != recipe.method:
        renamed = counterpart_ids(recipe, args.method)
        new_id = renamed[0] if renamed else f"{recipe.model_id}-{args.method}"
        recipe = dataclasses.replace(recipe, method=args.method, model_id=new_id)
    if args.placement and args.placement != recipe.placement:
        recipe = dataclasses.replace(
            recipe, placement=args.placement, model_id=f"{recipe.model_id}-{args.placement}"
        )
    if args.epochs is not None:
        recipe = dataclasses.replace(recipe, epochs=args.epochs)
    run_dir = Path(args.run_dir) if args.run_dir else zoo_root() / "runs" / recipe.model_id
    trainer = Trainer(
        recipe, run_dir, data_root=args.data_root, resume=args.resume, align_every=args.align_every
    )
    result = trainer.fit()
    shutdown_distributed()  # on success only: after a failure, a barrier would wait on the dead rank
    if trainer.dist.is_main:  # under torchrun, one report, not one per rank
        print(json.dumps(result.to_dict(), indent=2))
    return 0


def _cmd_align(args: argparse.Namespace) -> int:
    from dfazoo.core import measure_alignment
    from dfazoo.spec import make_task
    from dfazoo.zoo.hub import folder_model_id, load_folder, resolve_folder

    folder = resolve_folder(args.id, org=args.org)
    recipe = get_recipe(folder_model_id(folder))
    model = load_folder(folder)
    alignment = measure_alignment(model, *make_task(recipe, args.data_root).alignment_batch())
    if not alignment:
        print(f"{recipe.model_id}: no active feedback point")
        return 0
    print(f"alignment of {recipe.model_id} (cosine between B_i e and the BP gradient, one batch)")
    print(f"{'point':<30} {'mean':>7} {'std':>7}")
    for name, a in alignment.items():
        print(f"{name:<30} {a['mean']:>7.3f} {a['std']:>7.3f}")
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from dfazoo.zoo.hub import CARD_NAME
    from dfazoo.zoo.publish import publish_plan, push_to_hub

    names = args.folders or None
    plan = publish_plan(names, org=args.org, repo_id=args.repo_id)
    cardless = {folder for _, folder in plan if not (folder / CARD_NAME).exists()}
    if not args.dry_run:
        push_to_hub(names, org=args.org, repo_id=args.repo_id, private=args.private)
    verb = "would upload" if args.dry_run else "uploaded"
    for repo_id, folder in plan:
        note = ""
        if folder in cardless:
            done = "would be generated" if args.dry_run else "was generated and written there"
            note = f" (it has no {CARD_NAME}: a card generated from the folder's files {done})"
        print(f"{verb} {folder} -> {repo_id}{note}")
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from dfazoo.train.plot import plot_run

    if not Path(args.run_dir).is_dir():
        raise FileNotFoundError(f"run directory {args.run_dir} does not exist")
    for path in plot_run(args.run_dir):
        print(path)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from dfazoo.demo import run_demo

    results = run_demo(epochs=args.epochs, seed=args.seed, progress=sys.stderr.isatty())
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfazoo", description="The model zoo of Direct Feedback Alignment.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the zoo's models")
    p.add_argument("pattern", nargs="?", help="glob on model ids, e.g. 'gcn-*'")
    p.add_argument("--domain", help="vision, graph, nlp, nerf or recsys")
    p.add_argument("--method", choices=METHODS)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("zoo-table", help="the markdown table of released models (for the README)")
    p.add_argument(
        "--write-readme",
        nargs="?",
        const="",
        metavar="README",
        help="replace the table between the zoo-table markers of README (default: the repo's README.md)",
    )
    p.set_defaults(func=_cmd_zoo_table)

    p = sub.add_parser("info", help="a model's recipe, card folder and measured results")
    p.add_argument("id")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("eval", help="re-measure a model's metric and compare it with its card")
    p.add_argument("id", help="zoo id, model folder or Hub repo owner/name")
    p.add_argument("--data-root", help="dataset folder (default: $DFAZOO_DATA, then the cache)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--org", help=f"Hub organisation of zoo ids (default: $DFAZOO_HUB_ORG or {DEFAULT_HUB_ORG})"
    )
    p.add_argument("--revision", help="Hub revision")
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("train", help="train a recipe with the dfazoo Trainer")
    p.add_argument("recipe", help="zoo id or recipe JSON file")
    p.add_argument("--method", choices=METHODS, help="train with another method")
    p.add_argument("--placement", choices=tuple(PLACEMENTS))
    p.add_argument("--resume", action="store_true", help="continue from the run dir's checkpoint")
    p.add_argument("--data-root")
    p.add_argument("--run-dir", help="default: runs/<id>")
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--align-every", type=int, help="measure alignment every that many epochs")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("align", help="alignment of a released model, point by point")
    p.add_argument("id", help="zoo id, model folder or Hub repo owner/name")
    p.add_argument("--data-root")
    p.add_argument("--org")
    p.set_defaults(func=_cmd_align)

    p = sub.add_parser("publish", help="create/update a Hub repo from a model folder or zoo card folders")
    p.add_argument(
        "folders",
        nargs="*",
        metavar="FOLDER_OR_ID",
        help="a model folder (save_pretrained or a dfazoo train run) or zoo ids (default: every card folder)",
    )
    p.add_argument("--repo-id", help="Hub repo owner/name for the one folder given")
    p.add_argument(
        "--org",
        help=f"Hub owner: <org>/<folder name or id> (zoo ids default to $DFAZOO_HUB_ORG or {DEFAULT_HUB_ORG})",
    )
    p.add_argument("--private", action="store_true", help="create the Hub repo as private")
    p.add_argument("--dry-run", action="store_true", help="show what would be uploaded; write nothing")
    p.set_defaults(func=_cmd_publish)

    p = sub.add_parser("plot", help="plot a training run (loss, metrics, alignment)")
    p.add_argument("run_dir")
    p.set_defaults(func=_cmd_plot)

    p = sub.add_parser("demo", help="train BP, DFA and shallow side by side on a small task")
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="also print the results as JSON")
    p.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except USER_ERRORS as err:
        if os.environ.get("DFAZOO_DEBUG"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"dfazoo {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
