"""The ``dfazoo`` command: list, inspect, evaluate, train, align, generate, export, render, publish, plot,
demo."""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import fnmatch
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from dfazoo.methods import METHODS, PLACEMENTS
from dfazoo.project import DEFAULT_HUB_ORG, cards_dir, read_index, results_dir

if TYPE_CHECKING:
    from dfazoo.spec import Recipe


class UsageError(Exception):
    """A mistake in the command line itself, found before anything heavy is imported."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors a user can fix from the message alone: printed as one line, exit status 2 (set
    DFAZOO_DEBUG=1 to get the traceback instead). Imported only when something failed, so the
    quick commands (list, info, --help) never import torch."""
    from dfazoo.core.serialization import ModelLoadError
    from dfazoo.data.root import DatasetError
    from dfazoo.spec import UnknownModelError
    from dfazoo.train import TrainingDivergedError

    return (
        UnknownModelError,
        ModelLoadError,
        DatasetError,
        TrainingDivergedError,
        OSError,
        ValueError,
        KeyError,
    )


def _zoo_entry(model_id: str) -> dict:
    """The recipe of ``model_id`` from the zoo index, or a one-line error with close matches."""
    index = read_index()
    if model_id not in index:
        close = difflib.get_close_matches(model_id, list(index), n=3, cutoff=0.5)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"unknown model id {model_id!r}.{hint} Run `dfazoo list` to see every model.")
    return index[model_id]


def _stored_results(model_id: str) -> dict | None:
    path = results_dir() / f"{model_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _cmd_list(args: argparse.Namespace) -> int:
    index = read_index()
    ids = [
        model_id
        for model_id, recipe in sorted(index.items())
        if (args.pattern is None or fnmatch.fnmatch(model_id, args.pattern))
        and (args.domain is None or recipe["domain"] == args.domain)
        and (args.method is None or recipe["method"] == args.method)
    ]
    if not ids:
        print("no model matches", file=sys.stderr)
        return 1
    for model_id in ids:
        recipe, results = index[model_id], _stored_results(model_id)
        value = f"{results['value']:.4g}" if results else "not trained"
        print(f"{model_id:<40} {recipe['domain']:<7} {recipe['metric']:<10} {value}")
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
    recipe = _zoo_entry(args.id)
    card = cards_dir() / args.id
    info = {
        "recipe": recipe,
        "card": str(card) if (card / "model.safetensors").exists() else None,
        "results": _stored_results(args.id),
    }
    print(json.dumps(info, indent=2))
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from dfazoo.zoo.cards import round_metric
    from dfazoo.zoo.evaluate import evaluate_model, matches_card

    result = evaluate_model(args.id, args.data_root, org=args.org, revision=args.revision)
    carded = result["card_value"] is not None  # a run of an unregistered recipe has none
    ok = matches_card(result) if carded else True
    if args.json:
        shown = {k: result[k] for k in ("value", "card_value") if result[k] is not None}
        print(json.dumps({**result, **{k: round_metric(result["metric"], v) for k, v in shown.items()}}))
    else:
        name = f"{result['model']} {result['dataset']} {result['metric']}"
        if carded:
            verdict = "matches the card" if ok else "DIFFERS from the card"
            print(f"{name}: {result['value']:.6g} (card: {result['card_value']:.6g}) {verdict}")
        else:
            print(f"{name}: {result['value']:.6g} (no released card of this recipe to compare with)")
    return 0 if ok else 1


def _load_recipe(name: str) -> Recipe:
    """A registered id, or a recipe JSON file (e.g. a run's ``recipe.json``)."""
    from dfazoo.spec import Recipe, get_recipe

    path = Path(name)
    if path.suffix == ".json" and path.is_file():
        return Recipe(**json.loads(path.read_text()))
    return get_recipe(name)


def _init_model(recipe: Recipe, source: str):  # -> DFAModel (torch imported lazily)
    """The pretrained model ``source`` (zoo id, folder or Hub repo), set to train as ``recipe``."""
    from dfazoo.spec import build_model
    from dfazoo.zoo.hub import from_pretrained

    model = from_pretrained(source)
    expected = build_model(recipe)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    wanted = {k: tuple(v.shape) for k, v in expected.state_dict().items()}
    if model.arch_name != expected.arch_name or shapes != wanted:
        raise ValueError(
            f"--init-from {source}: its architecture ({model.arch_name}) does not match the recipe "
            f"{recipe.model_id} ({expected.arch_name} with {json.dumps(recipe.arch_config, sort_keys=True)}); "
            "pick a recipe of the same architecture"
        )
    model.set_method(recipe.method)
    if recipe.placement:
        model.set_placement(recipe.placement)
    return model.train()


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
    model = _init_model(recipe, args.init_from) if args.init_from else None
    trainer = Trainer(
        recipe,
        run_dir,
        data_root=args.data_root,
        model=model,
        resume=args.resume,
        overwrite=args.overwrite,
        align_every=args.align_every,
    )
    result = trainer.fit()
    shutdown_distributed()  # on success only: after a failure, a barrier would wait on the dead rank
    if trainer.dist.is_main:  # under torchrun, one report, not one per rank
        print(json.dumps(result.to_dict(), indent=2))
    return 0


def _cmd_align(args: argparse.Namespace) -> int:
    from dfazoo.core import measure_alignment
    from dfazoo.spec import get_recipe, make_task
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


def _load_lm(name: str, org: str | None):  # -> TransformerLM with a tokenizer
    """A language model with its tokenizer, or a one-line error (non-NLP model, no tokenizer.json)."""
    from dfazoo.nlp.transformer import TOKENIZER_NAME, TransformerLM
    from dfazoo.zoo.hub import load_folder, resolve_folder

    folder = resolve_folder(name, org=org)
    model = load_folder(folder)
    if not isinstance(model, TransformerLM):
        raise UsageError(f"{name} is a {model.arch_name!r} model, not a language model (transformer)")
    if model.tokenizer is None:
        raise UsageError(f"{folder} has no {TOKENIZER_NAME}: the model cannot encode or decode text")
    return model


def _cmd_generate(args: argparse.Namespace) -> int:
    if not args.prompt:
        raise UsageError("the prompt is empty: give --prompt TEXT")
    if args.max_new_tokens < 1 or args.temperature < 0 or (args.top_k is not None and args.top_k < 1):
        raise UsageError("--max-new-tokens and --top-k must be >= 1, --temperature >= 0 (0 is greedy)")
    from dfazoo.nlp.generate import crop_prompt, stream_text

    model = _load_lm(args.id, args.org)
    _, dropped = crop_prompt(model, model.encode(args.prompt))
    if dropped:
        print(
            f"note: the prompt has {dropped} tokens more than the context allows; kept its last "
            f"{model.max_len - 1}",
            file=sys.stderr,
        )
    print(args.prompt, end="", flush=True)
    top_k = args.top_k
    for piece in stream_text(
        model, args.prompt, args.max_new_tokens, temperature=args.temperature, top_k=top_k, seed=args.seed
    ):
        print(piece, end="", flush=True)
    print()
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    folder = Path(args.dir)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} exists and is not an empty folder; give a new folder")
    model = _load_lm(args.id, args.org)
    try:
        from dfazoo.nlp.export import export_transformers
    except ImportError as err:
        raise UsageError(f"{err}") from err
    try:
        export_transformers(model, folder)
    except (ImportError, ValueError) as err:
        raise UsageError(f"{err}") from err
    family = "GPT-1 (OpenAIGPTLMHeadModel)" if model.post_ln else "GPT-2"
    print(f"wrote a transformers {family} checkpoint and its tokenizer to {folder}")
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


def _cmd_render(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file, not a folder")
    entry = read_index().get(args.id)
    if entry is not None and entry["domain"] != "nerf":
        raise UsageError(
            f"{args.id} is a {entry['domain']} model, not a NeRF; render takes a nerf or tinynerf model"
        )
    from dfazoo.nerf import NeRF
    from dfazoo.nerf.views import load_scene, render_views
    from dfazoo.zoo.hub import from_pretrained

    model = from_pretrained(args.id)
    if not isinstance(model, NeRF):
        raise UsageError(
            f"{args.id} is a {model.arch_name} model, not a NeRF; render takes a nerf or tinynerf model"
        )
    scene = load_scene(args.data_root, args.scene, args.size)
    metrics = render_views(model, scene, out, frames=args.frames, progress=sys.stderr.isatty())
    print(
        f"{args.id}: {len(metrics['views'])} held-out views (PSNR {metrics['psnr']:.2f} dB, SSIM {metrics['ssim']:.3f}) and turntable.gif in {out}"
    )
    return 0


def _model_arg(p: argparse.ArgumentParser, of: str = "") -> None:
    """The positional model argument of the commands that load one."""
    p.add_argument("id", help="zoo id, model folder or Hub repo owner/name" + (f" of {of}" if of else ""))


def _data_root_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-root", help="dataset folder (default: $DFAZOO_DATA, then the cache)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfazoo", description="The model zoo of Direct Feedback Alignment.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("list", help="list the zoo's models")
    p.add_argument("pattern", nargs="?", help="glob on model ids, e.g. 'gcn-*'")
    p.add_argument("--domain", help="vision, graph, nlp, ... (see docs/adding-a-domain.md)")
    p.add_argument("--method", choices=METHODS)
    p.set_defaults(func=_cmd_list)

    p = sub.add_parser("zoo-table", help="the markdown table of released models (for the README)")
    p.add_argument("--write-readme", nargs="?", const="", metavar="README", help="write it into README")
    p.set_defaults(func=_cmd_zoo_table)

    p = sub.add_parser("info", help="a model's recipe, card folder and measured results")
    p.add_argument("id")
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("eval", help="re-measure a model's metric and compare it with its card")
    _model_arg(p)
    _data_root_arg(p)
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
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue from the run dir's checkpoint")
    mode.add_argument(
        "--overwrite", action="store_true", help="discard the run dir's checkpoint and start over"
    )
    p.add_argument(
        "--init-from",
        metavar="ID_OR_FOLDER",
        help="fine-tune this pretrained model (zoo id, model folder or Hub repo) instead of a fresh one",
    )
    _data_root_arg(p)
    p.add_argument(
        "--run-dir", help="default: runs/<id>; ends up a model folder of the best weights (dfazoo eval DIR)"
    )
    p.add_argument("--epochs", type=int, help="override the recipe's epochs")
    p.add_argument("--align-every", type=int, help="measure alignment every that many epochs")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("align", help="alignment of a released model, point by point")
    _model_arg(p)
    _data_root_arg(p)
    p.add_argument("--org")
    p.set_defaults(func=_cmd_align)

    p = sub.add_parser("generate", help="sample text from a language model, streamed (key/value cache)")
    _model_arg(p, "an NLP model")
    p.add_argument("--prompt", required=True)
    p.add_argument("--max-new-tokens", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8, help="0 is greedy decoding")
    p.add_argument("--top-k", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--org")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("export", help="export a language model to another library's format")
    _model_arg(p, "an NLP model")
    p.add_argument("--to", choices=("transformers",), required=True)
    p.add_argument(
        "dir", help="new folder for the GPT-2 (pre-LN) or GPT-1 (post-LN) checkpoint and its tokenizer"
    )
    p.add_argument("--org")
    p.set_defaults(func=_cmd_export)

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

    p = sub.add_parser("render", help="render a NeRF's held-out views (PNG) and a turntable GIF")
    _model_arg(p, "a nerf/tinynerf model")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--frames", type=int, default=40, help="turntable frames (default 40)")
    p.add_argument("--size", type=int, default=100, help="image side in pixels (default 100)")
    p.add_argument("--scene", default="lego")
    _data_root_arg(p)
    p.set_defaults(func=_cmd_render)

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
    except BrokenPipeError:  # e.g. `dfazoo list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as err:
        user_error = isinstance(err, UsageError) or isinstance(err, _user_errors())  # UsageError first:
        if os.environ.get("DFAZOO_DEBUG") or not user_error:  # the others import torch
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"dfazoo {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
