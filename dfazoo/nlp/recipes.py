"""NLP zoo recipes and the Table 5 protocol of the scaling paper (§3.3) at CPU scale.

One model size and one token budget for every row: 4 blocks, d 128, 4 heads, ff 512,
context 128 BPE tokens, dropout 0.1, a 2,048-token byte-level BPE trained on the train split;
batch 32 windows, 30 epochs of 100 steps = 3,000 steps = 12.3M training tokens (~31M
characters, ~35 passes over the 1.0M-character train split). Validation after every epoch.

Rows (Table 5's sequence; lr halved as the paper's 1e-4 -> 5e-5): BP ``base`` (Adam, β2 0.98,
lr 1e-3, 200 warm-up steps then cosine) and ``beta2`` (β2 0.999); DFA macro and micro ``base`` ->
``lower_lr`` (5e-4) -> ``beta2`` (+ β2 0.999) -> ``plateau`` (+ lr x0.2 when validation perplexity
stops falling, instead of warm-up + cosine); shallow ``base``. Beyond the paper's sequence, DFA
``block_lr``: the blocks and embeddings at a tenth of the lr (1e-4), the BP-trained decoder at 1e-3,
β2 0.999, warm-up + cosine (``eval/nlp_diagnostics.py`` found micro at lr 1e-3 worse than shallow
early on, and this variant better). BP and DFA macro ``nodrop``: ``base`` without dropout (the DFA
rows underfit: their training loss, under dropout, stays above the validation loss); DFA micro
``block_lr_nodrop``: ``block_lr`` without dropout. BP and DFA macro ``high_lr_nodrop``: ``nodrop`` at
twice the lr (2e-3): macro's ``lower_lr`` and ``block_lr`` rows learn more slowly than its ``base``, and
BP gets the same lr so the ratio stays fair.

Layouts: ``post_ln`` (the default; GPT-1's and the scaling paper's post-LN blocks, GELU's tanh
approximation, no final norm: exportable as ``transformers`` GPT-1) and ``pre_ln`` (GPT-2's, the first
CPU-scale Table 5). ``eval/nlp_diagnostics.py`` found DFA learning on post-LN blocks but not on pre-LN
ones, where every block adds its update to one unnormalised residual stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from dfazoo.spec.recipe import Recipe
from dfazoo.spec.releases import load_releases

# Which run each zoo model is released from (its Table 5 row, seed 0): data, in releases.json.
RELEASES = load_releases(Path(__file__).with_name("releases.json"))

PAPER = "Launay et al. 2020, Direct Feedback Alignment Scales to Modern Deep Learning Tasks and Architectures"
VOCAB = 2048
CONTEXT = 128
ARCH: dict[str, Any] = {
    "vocab_size": VOCAB,
    "d_model": 128,
    "n_layers": 4,
    "n_heads": 4,
    "d_ff": 512,
    "max_len": CONTEXT,
    "dropout": 0.1,
}
LAYOUTS: dict[str, dict[str, Any]] = {
    "post_ln": {"post_ln": True, "final_norm": False, "activation": "gelu_tanh"},
    "pre_ln": {},
}
LAYOUT = "post_ln"
TASK: dict[str, Any] = {"vocab_size": VOCAB, "context": CONTEXT, "steps_per_epoch": 100}
EPOCHS, BATCH, WARMUP = 30, 32, 200


def size_text(dropout: str) -> str:
    """The model size and token budget of every row, in words (``dropout`` as it should read)."""
    return (
        f"4 blocks, d 128, 4 heads, ff 512, context {CONTEXT} tokens, dropout {dropout}, BPE {VOCAB}; batch {BATCH}, "
        f"{EPOCHS} x {TASK['steps_per_epoch']} steps ({EPOCHS * TASK['steps_per_epoch'] * BATCH * CONTEXT / 1e6:.1f}M tokens)"
    )


SHAKESPEARE_NOTES = (
    "Tiny Shakespeare (1,115,394 characters), no official split: contiguous 90 / 5 / 5 % "
    "train / validation / test by character position; byte-level BPE (2,048 tokens) trained on the "
    "train split only."
)
# Table 5 (WikiText-103, 6 x d512, BPE 32k): best validation perplexity of each row.
PAPER_PPL: dict[tuple[str, str], float] = {
    ("bp", "base"): 34.4,
    ("bp", "beta2"): 29.8,
    ("dfa-macro", "base"): 95.0,
    ("dfa-macro", "lower_lr"): 77.1,
    ("dfa-macro", "beta2"): 55.0,
    ("dfa-macro", "plateau"): 52.0,
    ("dfa-micro", "base"): 182.0,
    ("dfa-micro", "lower_lr"): 166.0,
    ("dfa-micro", "beta2"): 99.9,
    ("dfa-micro", "plateau"): 93.3,
    ("shallow", "base"): 428.0,
}
ROWS: dict[str, tuple[str, ...]] = {
    "bp": ("base", "beta2", "nodrop", "high_lr_nodrop"),
    "dfa-macro": ("base", "lower_lr", "beta2", "plateau", "block_lr", "nodrop", "high_lr_nodrop"),
    "dfa-micro": ("base", "lower_lr", "beta2", "plateau", "block_lr", "block_lr_nodrop"),
    "shallow": ("base",),
}
DECODER: tuple[str, ...] = ("ln_f.*", "head.*")  # parameter names of the BP-trained decoder


class Row(NamedTuple):
    """What a Table 5 row changes: its label, lr factor, Adam β2, blocks and embeddings at a tenth of
    the lr (the decoder at the lr), reduce-on-plateau instead of warm-up + cosine, dropout."""

    label: str
    lr_scale: float = 1.0
    beta2: float = 0.98
    block_lr: bool = False
    plateau: bool = False
    dropout: bool = True


ROW_OPTIONS: dict[str, Row] = {
    "base": Row("Adam β2 0.98, warm-up + cosine"),
    "lower_lr": Row("lower lr", lr_scale=0.5),
    "beta2": Row("β2 0.999", lr_scale=0.5, beta2=0.999),
    "plateau": Row("+ reduce on plateau (x0.2)", lr_scale=0.5, beta2=0.999, plateau=True),
    "block_lr": Row(
        "ours: blocks lr / 10, decoder lr, β2 0.999, warm-up + cosine", beta2=0.999, block_lr=True
    ),
    "nodrop": Row("ours: Adam β2 0.98, warm-up + cosine, no dropout", dropout=False),
    "block_lr_nodrop": Row(
        "ours: blocks lr / 10, decoder lr, β2 0.999, warm-up + cosine, no dropout",
        beta2=0.999,
        block_lr=True,
        dropout=False,
    ),
    "high_lr_nodrop": Row(
        "ours: lr x 2, Adam β2 0.98, warm-up + cosine, no dropout", lr_scale=2.0, dropout=False
    ),
}
# The row each zoo model is trained as, until a release picks runs (releases.json).
ZOO_ROWS = {"bp": "nodrop", "dfa-macro": "high_lr_nodrop", "dfa-micro": "block_lr_nodrop", "shallow": "base"}


def _optim(row: Row, lr: float, warmup: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(optimizer, scheduler) of a Table 5 row."""
    optimizer: dict[str, Any] = {"name": "adam", "lr": lr * row.lr_scale, "betas": [0.9, row.beta2]}
    if row.block_lr:
        optimizer = {**optimizer, "lr": lr / 10, "param_groups": [{"match": m, "lr": lr} for m in DECODER]}
    if row.plateau:
        return optimizer, {"name": "plateau", "factor": 0.2, "patience": 1}
    return optimizer, {"name": "cosine", "interval": "step", "warmup": warmup}


def lm_recipe(
    variant: str = "bp",
    row: str = "base",
    seed: int = 0,
    epochs: int = EPOCHS,
    lr: float = 1e-3,
    dataset: str = "shakespeare",
    warmup: int = WARMUP,
    layout: str = LAYOUT,
    **task: Any,
) -> Recipe:
    """The Table 5 row ``row`` of ``variant`` (``bp``, ``dfa-macro``, ``dfa-micro``, ``shallow``)
    on blocks of ``layout`` (``post_ln`` or ``pre_ln``)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is unknown; choose one of {sorted(LAYOUTS)}")
    if row not in ROWS[variant]:
        raise ValueError(f"{variant} has rows {ROWS[variant]}, not {row!r}")
    method, _, placement = variant.partition("-")
    options = ROW_OPTIONS[row]
    optimizer, scheduler = _optim(options, lr, warmup)
    name = variant.replace("dfa-", "DFA ").replace("bp", "BP")
    arch_config = {**ARCH, **LAYOUTS[layout], **({} if options.dropout else {"dropout": 0.0})}
    return Recipe(
        model_id=f"transformer-{dataset}-{variant}",
        domain="nlp",
        arch="transformer",
        dataset=dataset,
        method=method,
        placement=placement or "macro",
        task="language_modeling",
        metric="perplexity",
        higher_is_better=False,
        arch_config=arch_config,
        task_config={**TASK, **task},
        optimizer=optimizer,
        scheduler=scheduler,
        epochs=epochs,
        batch_size=BATCH,
        seed=seed,
        tolerance=0.5,
        description=f"GPT-style Transformer LM ({size_text(format(arch_config['dropout'], 'g'))}, {layout.replace('_', '-').upper()} blocks) on {dataset}, trained with {name} "
        f"(Table 5 row: {options.label}).",
        data_notes=SHAKESPEARE_NOTES if dataset == "shakespeare" else "",
        paper_value=PAPER_PPL.get((variant, row)),
        paper_ref=f"{PAPER}, Table 5 (WikiText-103, 6 x d512: the paper's scale, not ours)",
        notes="Perplexity per BPE token (lower is better); nats per character beside it. The decoder "
        "(final norm + head) trains by BP in every method; shallow trains only it.",
    )


RECIPES: tuple[Recipe, ...] = tuple(lm_recipe(v, ZOO_ROWS[v]) for v in ROWS)
