"""A small generated corpus and a tiny language model for the NLP tests."""

from __future__ import annotations

import random
from pathlib import Path

import torch

from dfazoo.nlp import TransformerLM
from dfazoo.nlp.tokenizer import train_bpe

WORDS = "the king shall speak of love and death to thee my lord what art thou good night sweet prince".split()
TINY = {"d_model": 16, "n_layers": 2, "n_heads": 2, "d_ff": 32, "max_len": 24, "dropout": 0.0}


def corpus_text(chars: int = 12_000, seed: int = 0) -> str:
    rng = random.Random(seed)
    lines = []
    while sum(map(len, lines)) < chars:
        lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9))).capitalize() + ".\n")
    return "".join(lines)


def write_corpus(folder: Path, chars: int = 12_000) -> Path:
    path = folder / "corpus.txt"
    path.write_text(corpus_text(chars))
    return path


def tiny_lm(method: str = "dfa", placement: str = "macro", vocab: int = 300, **overrides) -> TransformerLM:
    torch.manual_seed(0)
    model = TransformerLM(vocab, method=method, placement=placement, **{**TINY, **overrides})
    model.tokenizer = train_bpe(corpus_text(), vocab)
    return model
