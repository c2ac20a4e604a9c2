"""Fine-tuning example: reuse gcn-cora-dfa's DFA-trained hidden layer on a new train split.

    python eval/graph_finetune.py --data-root ../shared/data

Loads the zoo model, resets its output layer (conv2), and trains it again with DFA on a fresh
Cora train split (20 new labelled nodes per class, none from the public train/val/test sets;
the public val/test nodes are kept), with the project's Trainer. For comparison it trains the
same recipe from scratch on that split. Writes ``eval/results/graph_finetune.json``.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import replace
from typing import Any

import torch
from graph_common import RESULTS, graph_parser

from dfazoo.core.serialization import build_from_config, read_config
from dfazoo.spec import get_architecture
from dfazoo.spec.registry import get_recipe
from dfazoo.train import Trainer
from dfazoo.zoo.finetune import head_module
from dfazoo.zoo.hub import from_pretrained, resolve_folder


def finetune(
    model_id: str = "gcn-cora-dfa",
    data_root: str | None = None,
    source: str | None = None,
    split_seed: int = 1,
    epochs: int | None = None,
) -> dict[str, Any]:
    """Test accuracy on the fresh split: loaded as is, fine-tuned after a head reset, and from scratch."""
    base = get_recipe(model_id)
    recipe = replace(
        base,
        model_id=f"{model_id}-finetune",
        task_config={**base.task_config, "split": "fresh_train", "split_seed": split_seed},
        epochs=epochs or base.epochs,
    )
    model = from_pretrained(source or model_id)
    head_module(model).reset_parameters()
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(recipe, run_dir, data_root=data_root, model=model.set_method("dfa"), progress=False)
        tuned = trainer.fit()
        pretrained = trainer.task.evaluate(from_pretrained(source or model_id), "test")
    torch.manual_seed(recipe.seed)
    config = read_config(resolve_folder(source or model_id))
    fresh = build_from_config(get_architecture(config["architecture"]), config).set_method("dfa")
    with tempfile.TemporaryDirectory() as run_dir:
        scratch = Trainer(recipe, run_dir, data_root=data_root, model=fresh, progress=False).fit()
    return {
        "model": model_id,
        "split": recipe.task_config,
        "epochs": recipe.epochs,
        "pretrained_test_accuracy": pretrained["accuracy"],
        "finetuned_test_accuracy": tuned.test_metrics["accuracy"],
        "finetuned_best_epoch": tuned.best_epoch,
        "scratch_test_accuracy": scratch.test_metrics["accuracy"],
        "finetuned_alignment": tuned.alignment,
    }


def main(argv: list[str] | None = None) -> None:
    parser = graph_parser(__doc__)
    parser.add_argument("--model", default="gcn-cora-dfa", help="zoo id or model folder")
    parser.add_argument("--split-seed", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    result = finetune(args.model, args.data_root, split_seed=args.split_seed)
    result["command"] = "python eval/graph_finetune.py --data-root ../shared/data"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "graph_finetune.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
