"""Sampling from a :class:`~dfazoo.nlp.TransformerLM`, token by token, with a key/value cache.

With the cache every new token costs one position; without it (``use_cache=False``, for the
benchmark) every step re-runs the whole context. Once the context is full, the cached path
restarts from the last ``max_len // 2`` tokens (one prefill) and the uncached one slides by one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch

from dfazoo.nlp.transformer import TransformerLM


def crop_prompt(model: TransformerLM, ids: list[int]) -> tuple[list[int], int]:
    """(the last ``max_len - 1`` ids, how many were dropped): room for at least one new token."""
    keep = model.max_len - 1
    if not ids:
        raise ValueError("the prompt is empty: give at least one character")
    return ids[-keep:], max(len(ids) - keep, 0)


def sample_next(
    logits: torch.Tensor, temperature: float, top_k: int | None, generator: torch.Generator | None
) -> int:
    """A token from ``logits`` (vocab,): greedy for ``temperature == 0``, else softmax sampling."""
    if temperature < 0:
        raise ValueError(f"temperature={temperature} must be >= 0 (0 is greedy)")
    if temperature == 0:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k is not None and top_k > 0 and top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return int(torch.multinomial(torch.softmax(logits, -1), 1, generator=generator))


@torch.no_grad()
def generate_ids(
    model: TransformerLM,
    ids: list[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
    use_cache: bool = True,
) -> Iterator[int]:
    """Yield ``max_new_tokens`` new ids after the prompt ``ids`` (cropped to fit the context)."""
    model.eval()
    ids, _ = crop_prompt(model, list(ids))
    generator = torch.Generator().manual_seed(seed) if seed is not None else None
    cache = model.new_cache() if use_cache else None
    pending = ids  # the ids not yet fed to the cache
    for _ in range(max_new_tokens):
        if cache is None:
            logits = model(torch.tensor([ids[-model.max_len :]]))[0, -1]
        else:
            if len(cache) + len(pending) > model.max_len:
                cache, pending = model.new_cache(), ids[-(model.max_len // 2) :]
            logits = model(torch.tensor([pending]), cache)[0, -1]
        token = sample_next(logits, temperature, top_k, generator)
        ids.append(token)
        pending = [token]
        yield token


def stream_text(model: TransformerLM, prompt: str, max_new_tokens: int, **kwargs: object) -> Iterator[str]:
    """Yield the generated text in pieces as tokens arrive (a piece that would end inside a
    multi-byte character waits for the next token)."""
    produced: list[int] = []
    shown = ""
    for token in generate_ids(model, model.encode(prompt), max_new_tokens, **kwargs):  # type: ignore[arg-type]
        produced.append(token)
        text = model.decode(produced)
        if text.endswith("\ufffd"):
            continue
        yield text[len(shown) :]
        shown = text


def card_sample(model: TransformerLM, prompt: str = "ROMEO:", seed: int = 0) -> dict[str, Any]:
    """A generated sample for the model's card, with the settings that reproduce it."""
    settings = {"max_new_tokens": 80, "temperature": 0.8, "top_k": 40, "seed": seed}
    text = prompt + "".join(stream_text(model, prompt, **settings))  # type: ignore[arg-type]
    return {"prompt": prompt, **settings, "text": text}
