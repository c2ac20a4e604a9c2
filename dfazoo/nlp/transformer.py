"""Decoder-only Transformer LM with DFA feedback after every block (macro) or every layer (micro).

Scaling paper §3.4: tokens share one feedback matrix. ``macro`` places one point after each
block. ``micro`` follows the paper's text, "after every layer in those blocks": also at the top
of the attention mechanism (before its output projection), after the attention sub-layer, and
after the feed-forward hidden activation. Attention receives its feedback at its top, so Q/K/V
still learn by backpropagation through the attention mechanism (appendix D), and the embeddings
learn by backpropagation through the first block: the weight transport the paper keeps in micro.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from dfazoo.core import DFAModel, FeedbackPoint, OutputHook


class CausalSelfAttention(nn.Module):
    """Multi-head causal attention mechanism, without its output projection (a separate layer)."""

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model={d_model} is not divisible by n_heads={n_heads}")
        self.n_heads, self.dropout = n_heads, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(x).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        drop = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=drop, is_causal=True)
        return y.transpose(1, 2).reshape(b, t, d)


class Block(nn.Module):
    """Pre-LN block. ``point`` (tag ``block``) closes it; ``attn_point``, ``attn_out_point`` and
    ``ff_point`` (tag ``sublayer``) sit after every layer inside it.

    With ``ln_affine=False`` the sub-layers' LayerNorms have no gain/bias. An affine gain at the
    bottom of a sub-layer needs the input-gradient of the first projection, which is exactly the
    matmul DFA skips, so affine norms cancel DFA's speed-up (measured in eval/bench_core.py).
    """

    def __init__(self, d_model: int, n_heads: int, d_ff: int, dropout: float, ln_affine: bool) -> None:
        super().__init__()
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.attn_point(self.attn(self.ln1(x)))
        x = self.attn_out_point(x + self.drop(self.attn_proj(a)))
        h = self.ff_point(F.gelu(self.ff_in(self.ln2(x))))
        return self.point(x + self.drop(self.ff_out(h)))


class TransformerLM(DFAModel):
    """GPT-style language model: token + position embeddings, ``n_layers`` blocks, LM head.
    ``**feedback``: :class:`~dfazoo.core.FeedbackConfig` fields."""

    arch_name = "transformer"
    head_name = "head"

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
        **feedback: Any,
    ) -> None:
        super().__init__()
        self.tok = nn.Embedding(vocab_size, d_model)
        self.pos = nn.Embedding(max_len, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            Block(d_model, n_heads, d_ff, dropout, ln_affine) for _ in range(n_layers)
        )
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size)
        self.output_hook = OutputHook()
        self.setup_feedback(vocab_size, **feedback)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = self.drop(self.tok(tokens) + self.pos(positions))
        for block in self.blocks:
            x = block(x)
        return self.output_hook(self.head(self.ln_f(x)))
