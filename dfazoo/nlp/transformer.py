"""Decoder-only Transformer LM with DFA feedback after every block (macro) or every layer (micro).

Scaling paper §3.3-3.4 and appendix D: all tokens share one feedback matrix. ``macro`` places one
point after each block. ``micro`` follows the paper's text, "after every layer in those blocks":
also at the top of the attention mechanism (before its output projection), after the attention
sub-layer, and after the feed-forward hidden activation. **Attention receives its feedback at its
top**: Q/K/V still learn by backpropagation through the attention mechanism (softmax, keys,
values) from that point, as appendix D prescribes, and the embeddings learn by backpropagation
through the first block: the weight transport the paper keeps in micro. The decoder (final norm
and head) trains by BP in every method; ``shallow`` trains only it.

The default layout is GPT-2's (pre-LN blocks, exact GELU, untied bias-free head), so a model maps
exactly onto ``transformers.GPT2LMHeadModel``; with ``post_ln=True, final_norm=False`` and
``activation="gelu_tanh"`` it is GPT-1's (post-LN, the scaling paper's layout) and maps onto
``transformers.OpenAIGPTLMHeadModel`` (:mod:`dfazoo.nlp.export`); non-affine norms map to unit
gain and zero bias. :class:`KVCache` makes generation cost one position per new token.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook
from dfazoo.files import atomic_path

TOKENIZER_NAME = "tokenizer.json"
# The feed-forward non-linearity: exact GELU (GPT-2), its tanh approximation (GPT-1's "gelu"), ReLU.
FF_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "gelu": F.gelu,
    "gelu_tanh": functools.partial(F.gelu, approximate="tanh"),
    "relu": F.relu,
}


class KVCache:
    """Keys and values of the positions seen so far, one (k, v) pair per block."""

    def __init__(self, n_layers: int) -> None:
        self.layers: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n_layers

    def __len__(self) -> int:
        first = self.layers[0]
        return 0 if first is None else first[0].shape[2]

    def extend(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append this step's (k, v) of ``layer`` and return the full keys and values."""
        past = self.layers[layer]
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
        self.layers[layer] = (k, v)
        return k, v


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention mechanism, without its output projection (a separate layer)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        if cache is not None:
            k, v = cache.extend(layer, k, v)
        past = k.shape[2] - t
        drop = self.dropout if self.training else 0.0
        if past and t > 1:  # new queries see every cached position and the new ones causally
            mask = torch.ones(t, past + t, dtype=torch.bool, device=x.device).tril(diagonal=past)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=drop)
        else:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=not past)
        return y.transpose(1, 2).reshape(b, t, d)


class Block(nn.Module):
    """Pre-LN block (``post_ln``: the original Transformer's post-LN, the scaling paper's layout).
    ``point`` (tag ``block``) closes it; ``attn_point``, ``attn_out_point`` and ``ff_point`` (tag
    ``sublayer``) sit after every layer inside it.

    With ``ln_affine=False`` the sub-layers' LayerNorms have no gain/bias. An affine gain at the
    bottom of a sub-layer needs the input-gradient of the first projection, which is exactly the
    matmul DFA skips, so affine norms cancel DFA's speed-up (measured in eval/bench_core.py).
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        d_ff: int,
        dropout: float,
        ln_affine: bool,
        post_ln: bool = False,
        activation: str = "gelu",
    ) -> None:
        super().__init__()
        if activation not in FF_ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is unknown; choose one of {sorted(FF_ACTIVATIONS)}")
        self.post_ln, self.act = post_ln, FF_ACTIVATIONS[activation]
        self.ln1 = nn.LayerNorm(d_model, elementwise_affine=ln_affine)
        self.ln2 = nn.LayerNorm(d_model, elementwise_affine=ln_affine)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.attn_proj = nn.Linear(d_model, d_model)
        self.ff_in = nn.Linear(d_model, d_ff)
        self.ff_out = nn.Linear(d_ff, d_model)
        self.drop = nn.Dropout(dropout)
        self.attn_point = FeedbackPoint(d_model, shared_dims=2, tag="sublayer")
        self.attn_out_point = FeedbackPoint(d_model, shared_dims=2, tag="sublayer")
        self.ff_point = FeedbackPoint(d_ff, shared_dims=2, tag="sublayer")
        self.point = FeedbackPoint(d_model, shared_dims=2, tag="block")

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        if self.post_ln:
            a = self.attn_point(self.attn(x, cache, layer))
            x = self.attn_out_point(self.ln1(x + self.drop(self.attn_proj(a))))
            h = self.ff_point(self.act(self.ff_in(x)))
            return self.point(self.ln2(x + self.drop(self.ff_out(h))))
        a = self.attn_point(self.attn(self.ln1(x), cache, layer))
        x = self.attn_out_point(x + self.drop(self.attn_proj(a)))
        h = self.ff_point(self.act(self.ff_in(self.ln2(x))))
        return self.point(x + self.drop(self.ff_out(h)))


class TransformerLM(DFAModel):
    """GPT-style language model: token + position embeddings, ``n_layers`` blocks, LM head.

    ``post_ln``: post-LN blocks; ``activation``: the feed-forward non-linearity (``gelu``,
    ``gelu_tanh``, ``relu``); ``final_norm``: a LayerNorm before the head (a post-LN block already
    ends in one). ``**feedback``: :class:`~dfazoo.core.FeedbackConfig` fields. ``tokenizer`` (a
    ``tokenizers.Tokenizer`` or None) is saved as ``tokenizer.json`` beside the weights and
    loaded back by ``from_pretrained``; :meth:`encode` / :meth:`decode` use it.
    """

    arch_name = "transformer"
    head_name = "head"
    extra_files = (TOKENIZER_NAME,)

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_layers: int = 2,
        n_heads: int = 4,
        d_ff: int = 512,
        max_len: int = 128,
        dropout: float = 0.1,
        ln_affine: bool = False,
        post_ln: bool = False,
        activation: str = "gelu",
        final_norm: bool = True,
        **feedback: Any,
    ) -> None:
        super().__init__()
        self.post_ln, self.activation = post_ln, activation
        self.max_len = max_len
        self.tokenizer: Any = None
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, d_ff, dropout, ln_affine, post_ln, activation) for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model) if final_norm else nn.Identity()
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.output_hook = OutputHook()
        self.setup_feedback(vocab_size, **feedback)

    def new_cache(self) -> KVCache:
        """An empty key/value cache for :meth:`forward` (generation)."""
        return KVCache(len(self.blocks))

    def forward(self, tokens: torch.Tensor, cache: KVCache | None = None) -> torch.Tensor:
        """Logits (batch, time, vocab). With ``cache``, ``tokens`` continue the cached positions
        (whose keys and values are reused, and this call's appended)."""
        start = len(cache) if cache is not None else 0
        if start + tokens.shape[1] > self.max_len:
            raise ValueError(
                f"{start + tokens.shape[1]} positions exceed the context of {self.max_len}; crop the input"
            )
        positions = torch.arange(start, start + tokens.shape[1], device=tokens.device)
        x = self.drop(self.tok(tokens) + self.pos(positions))
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        return self.output_hook(self.head(self.ln_f(x)))

    def encode(self, text: str) -> list[int]:
        return self._require_tokenizer().encode(text).ids

    def decode(self, ids: list[int]) -> str:
        return self._require_tokenizer().decode(ids)

    def _require_tokenizer(self) -> Any:
        if self.tokenizer is None:
            raise ValueError(
                f"this model has no tokenizer: its folder holds no {TOKENIZER_NAME} (set model.tokenizer)"
            )
        return self.tokenizer

    def save_extra(self, folder: Path) -> None:
        if self.tokenizer is not None:
            with atomic_path(folder / TOKENIZER_NAME) as tmp:
                self.tokenizer.save(os.fspath(tmp))

    def load_extra(self, folder: Path) -> None:
        path = folder / TOKENIZER_NAME
        if path.exists():
            from tokenizers import Tokenizer

            self.tokenizer = Tokenizer.from_file(os.fspath(path))
