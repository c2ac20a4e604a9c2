"""Fine-tuning example: continue training a DFA language model on another text, DFA still on.

    python eval/nlp_finetune.py                                   # transformer-shakespeare-dfa-macro on the GPL-3
    python eval/nlp_finetune.py --source FOLDER --text FILE --epochs 3 --steps 50

Loads the model (zoo id, folder or Hub repo) with its tokenizer, splits ``--text`` contiguously
90/5/5, and trains it with the project's Trainer in its own method and placement (DFA), keeping
its tokenizer (``task_config["tokenizer_file"]``). Reports the new text's test perplexity and
nats per character before and after. Writes ``eval/results/nlp_finetune.json`` (``--out``).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from dfazoo.data.root import DatasetError
from dfazoo.data.text import load_text_file
from dfazoo.nlp.transformer import TOKENIZER_NAME, TransformerLM
from dfazoo.spec import Recipe, make_task
from dfazoo.train import Trainer
from dfazoo.zoo.hub import load_folder, resolve_folder

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_TEXT = "/usr/share/common-licenses/GPL-3"


def finetune_recipe(
    model: TransformerLM, folder: Path, text: str, epochs: int, steps: int, lr: float
) -> Recipe:
    """Train ``model`` (saved in ``folder``) on ``text`` as it is: same method, placement, tokenizer."""
    arch = {k: v for k, v in model.get_config().items() if k not in ("method", "placement", "seed")}
    return Recipe(
        model_id=f"{model.arch_name}-text-{model.method}-finetune",
        domain="nlp",
        arch=model.arch_name,
        dataset="text",
        method=model.method,
        placement=model.placement,
        task="language_modeling",
        metric="perplexity",
        higher_is_better=False,
        arch_config=arch,
        task_config={
            "corpus_file": str(text),
            "tokenizer_file": str(folder / TOKENIZER_NAME),
            "context": model.max_len,
            "steps_per_epoch": steps,
        },
        optimizer={"name": "adam", "lr": lr, "betas": [0.9, 0.999]},
        epochs=epochs,
        batch_size=16,
    )


def finetune(
    source: str, text: str, epochs: int = 3, steps: int = 50, lr: float = 3e-4, run_dir: Path | None = None
) -> dict[str, Any]:
    folder = resolve_folder(source)
    model = load_folder(folder)
    if not isinstance(model, TransformerLM) or model.tokenizer is None:
        raise ValueError(f"{source} is not a language model with a {TOKENIZER_NAME}")
    recipe = finetune_recipe(model, folder, text, epochs, steps, lr)
    task = make_task(recipe)
    before = task.evaluate(model.eval(), "test")
    with tempfile.TemporaryDirectory() as tmp:
        trainer = Trainer(
            recipe, run_dir or Path(tmp) / "run", model=model.train(), task=task, progress=False
        )
        result = trainer.fit()
    return {
        "source": source,
        "text": str(text),
        "method": trainer.model.method,
        "placement": trainer.model.placement,
        "epochs": epochs,
        "steps_per_epoch": steps,
        "data_notes": task.data_notes.replace(str(folder), source),  # no machine-specific path
        "test_before": before,
        "test_after": result.test_metrics,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="transformer-shakespeare-dfa-macro")
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=50, help="steps per epoch")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--run-dir", type=Path, help="keep the fine-tuned model folder here")
    parser.add_argument("--out", type=Path, default=RESULTS / "nlp_finetune.json")
    args = parser.parse_args(argv)
    try:
        load_text_file(args.text)  # a missing or empty text: one line, nothing written
    except DatasetError as err:
        raise SystemExit(f"nlp_finetune: error: {err}") from None
    out = finetune(args.source, args.text, args.epochs, args.steps, args.lr, args.run_dir)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    b, a = out["test_before"], out["test_after"]
    print(
        f"{out['source']} on {out['text']} ({out['method']} {out['placement']}): test perplexity "
        f"{b['perplexity']:.1f} -> {a['perplexity']:.1f}, nats/char {b['nats_per_char']:.3f} -> {a['nats_per_char']:.3f}"
    )
    return out


if __name__ == "__main__":
    main()
