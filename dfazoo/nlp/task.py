"""Language modelling: next-token prediction on a text corpus, with a BPE tokenizer of its train split.

Metrics (``evaluate``): ``loss`` and ``perplexity`` per BPE token, and ``nats_per_char`` (the
summed loss over the characters it predicts), which does not depend on the tokenizer and compares
with character-level models.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from dfazoo.data.text import TextSplits, load_shakespeare, load_text_file, load_wikitext
from dfazoo.nlp.generate import card_sample
from dfazoo.nlp.tokenizer import DEFAULT_VOCAB_SIZE, train_bpe
from dfazoo.spec.recipe import Recipe
from dfazoo.spec.task import Task

DATASETS = ("shakespeare", "wikitext-2", "wikitext-103", "text")


def load_corpus(dataset: str, data_root: str | None, corpus_file: str | None = None) -> TextSplits:
    """The splits of ``dataset``; ``"text"`` reads ``corpus_file`` (contiguous 90/5/5)."""
    if dataset == "shakespeare":
        return load_shakespeare(data_root)
    if dataset in ("wikitext-2", "wikitext-103"):
        return load_wikitext(data_root, dataset)
    if dataset == "text":
        if not corpus_file:
            raise ValueError("dataset 'text' needs task_config['corpus_file']")
        return load_text_file(corpus_file)
    raise ValueError(f"dataset={dataset!r} is unknown; choose one of {DATASETS}")


@functools.lru_cache(maxsize=4)
def _corpus(dataset: str, data_root: str | None, corpus_file: str | None) -> TextSplits:
    return load_corpus(dataset, data_root, corpus_file)


@functools.lru_cache(maxsize=4)
def _bpe_json(train_text: str, vocab_size: int) -> str:
    return train_bpe(train_text, vocab_size).to_str()


class _Windows:
    """``steps`` batches of ``batch`` random (input, target) windows of ``context`` tokens."""

    def __init__(self, ids: torch.Tensor, steps: int, batch: int, context: int, gen: torch.Generator):
        self.ids, self.steps, self.batch, self.context, self.gen = ids, steps, batch, context, gen

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        offsets = torch.arange(self.context + 1)
        for _ in range(self.steps):
            starts = torch.randint(0, len(self.ids) - self.context, (self.batch,), generator=self.gen)
            chunk = self.ids[starts[:, None] + offsets]
            yield chunk[:, :-1], chunk[:, 1:]


class LanguageModelingTask(Task):
    """Next-token prediction with a byte-level BPE tokenizer trained on the train split.

    ``task_config``: ``vocab_size`` (default :data:`DEFAULT_VOCAB_SIZE`), ``context`` (tokens per
    window, default 128), ``steps_per_epoch`` (an epoch is that many batches of random training
    windows, default 100), ``eval_batch_size`` (64), ``corpus_file`` (dataset ``"text"``),
    ``tokenizer_file`` (use that ``tokenizer.json`` instead of training one, e.g. to fine-tune).
    Evaluation covers every token of a split once, in consecutive windows of ``context``.
    """

    name = "language_modeling"

    def __init__(self, recipe: Recipe, data_root: str | None = None) -> None:
        super().__init__(recipe, data_root)
        from tokenizers import Tokenizer

        cfg = recipe.task_config
        corpus = _corpus(recipe.dataset, data_root, cfg.get("corpus_file"))
        if cfg.get("tokenizer_file"):
            self.tokenizer = Tokenizer.from_file(str(cfg["tokenizer_file"]))
            made = f"tokenizer from {cfg['tokenizer_file']}"
        else:
            vocab = int(cfg.get("vocab_size", DEFAULT_VOCAB_SIZE))
            self.tokenizer = Tokenizer.from_str(_bpe_json(corpus.train, vocab))
            made = f"byte-level BPE ({vocab} tokens) trained on the train split only"
        self.data_notes = f"{corpus.notes}; {made}"
        self.context = int(cfg.get("context", 128))
        self.steps_per_epoch = int(cfg.get("steps_per_epoch", 100))
        self.batch_size = int(recipe.batch_size or 32)
        self.eval_batch_size = int(cfg.get("eval_batch_size", 64))
        self.ids: dict[str, torch.Tensor] = {}
        self.chars: dict[str, int] = {}
        for split in ("train", "val", "test"):
            text = getattr(corpus, split)
            ids = self.tokenizer.encode(text).ids
            if len(ids) < self.context + 2:
                raise ValueError(
                    f"{corpus.name} {split} split has {len(ids)} tokens, fewer than a window of "
                    f"{self.context + 1}; use more text or a shorter context"
                )
            self.ids[split] = torch.tensor(ids, dtype=torch.long)
            # Characters of the predicted tokens (all but the first): the nats-per-char denominator.
            self.chars[split] = len(text) - len(self.tokenizer.decode(ids[:1]))

    @classmethod
    def card_inputs(cls, recipe: Recipe, results: dict[str, Any]) -> str:
        """A language model's tokenizer, per-character loss and a generated sample with its seed."""
        test = results.get("test_metrics", {})
        nats = f"{test['nats_per_char']:.3f}" if "nats_per_char" in test else "n/a"
        vocab = recipe.arch_config.get("vocab_size")
        text = f"""
Inputs: text, through the byte-level BPE tokenizer ({vocab} tokens, trained on the train split
only) saved beside the weights as `tokenizer.json`: `model.encode(text)` / `model.decode(ids)`, or
`transformers.PreTrainedTokenizerFast(tokenizer_file="tokenizer.json")`. Test loss: {nats} nats per
character (independent of the tokenizer); perplexity is per BPE token.
`dfazoo generate {recipe.model_id} --prompt "ROMEO:"` samples from it;
`dfazoo export {recipe.model_id} --to transformers DIR` writes a `transformers` checkpoint with identical
logits (GPT-1 `OpenAIGPTLMHeadModel` for post-LN blocks, GPT-2 for pre-LN ones).
"""
        sample = results.get("sample")
        if sample:
            text += (
                f"\nSample (`dfazoo generate {recipe.model_id} --prompt {json.dumps(sample['prompt'])} "
                f"--max-new-tokens {sample['max_new_tokens']} --temperature {sample['temperature']:g} "
                f"--top-k {sample['top_k']} --seed {sample['seed']}`):\n\n```text\n{sample['text']}\n```\n"
            )
        return text

    def prepare_model(self, model: torch.nn.Module) -> None:
        """Give the model this task's tokenizer (saved with it); refuse a different one."""
        current = getattr(model, "tokenizer", None)
        if current is None:
            model.tokenizer = self.tokenizer
        elif current.to_str() != self.tokenizer.to_str():
            raise ValueError(
                "the model's tokenizer differs from the task's; set task_config['tokenizer_file'] to "
                "the model's tokenizer.json to train it on this corpus"
            )

    def release_extras(self, model: torch.nn.Module, folder: Path) -> dict[str, Any]:
        """A generated sample, with its seed and settings, for the card."""
        return {"sample": card_sample(model)}  # type: ignore[arg-type]

    def train_batches(self, epoch: int, generator: torch.Generator) -> _Windows:
        return _Windows(self.ids["train"], self.steps_per_epoch, self.batch_size, self.context, generator)

    def loss(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        x, y = batch
        logits = model(x)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))

    def windows(self, split: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Consecutive (input, target) windows covering every token of ``split`` once."""
        if split not in self.ids:
            raise ValueError(f"split={split!r} is not available; have {sorted(self.ids)}")
        ids, t = self.ids[split], self.context
        n = len(ids) - 1  # predicted tokens: ids[1:]
        return [(ids[s : min(s + t, n)], ids[s + 1 : min(s + t, n) + 1]) for s in range(0, n, t)]

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, split: str) -> dict[str, float]:
        windows = self.windows(split)
        full = [w for w in windows if len(w[0]) == self.context]
        total, count = 0.0, 0
        groups = [full[i : i + self.eval_batch_size] for i in range(0, len(full), self.eval_batch_size)]
        groups += [[w] for w in windows if len(w[0]) != self.context]
        for group in groups:
            x, y = torch.stack([w[0] for w in group]), torch.stack([w[1] for w in group])
            logits = model(x)
            total += F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum"
            ).item()
            count += y.numel()
        loss = total / count
        return {
            "loss": loss,
            "perplexity": math.exp(loss),
            "nats_per_char": total / self.chars[split],
            "tokens": float(count),
        }

    def alignment_batch(self) -> tuple[Any, Any, Callable[[torch.Tensor, Any], torch.Tensor]]:
        """The first 16 training windows (fixed)."""
        windows = [w for w in self.windows("train") if len(w[0]) == self.context][:16]
        x, y = torch.stack([w[0] for w in windows]), torch.stack([w[1] for w in windows])
        return x, y, lambda out, target: F.cross_entropy(out.reshape(-1, out.shape[-1]), target.reshape(-1))
