"""Export a :class:`~dfazoo.nlp.TransformerLM` as a ``transformers`` GPT-2 checkpoint (optional extra).

The mapping is exact: pre-LN blocks, exact GELU (``activation_function="gelu"``), untied head
without bias; non-affine LayerNorms become unit gain and zero bias; ``Linear`` weights are
transposed into GPT-2's ``Conv1D`` layout. The tokenizer is saved beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from dfazoo.nlp.tokenizer import END_OF_TEXT
from dfazoo.nlp.transformer import TransformerLM


def _transformers():  # -> the transformers module
    try:
        import transformers
    except ImportError as err:
        raise ImportError("exporting needs transformers: pip install 'dfazoo[transformers]'") from err
    return transformers


def _norm(ln: torch.nn.LayerNorm, prefix: str) -> dict[str, torch.Tensor]:
    d = ln.normalized_shape[0]
    weight = ln.weight if ln.weight is not None else torch.ones(d)
    bias = ln.bias if ln.bias is not None else torch.zeros(d)
    return {f"{prefix}.weight": weight, f"{prefix}.bias": bias}


def gpt2_state_dict(model: TransformerLM) -> dict[str, torch.Tensor]:
    """``model``'s weights under GPT2LMHeadModel's names and layouts."""
    sd = {"transformer.wte.weight": model.tok.weight, "transformer.wpe.weight": model.pos.weight}
    for i, block in enumerate(model.blocks):
        p = f"transformer.h.{i}"
        sd.update(_norm(block.ln1, f"{p}.ln_1"))
        sd.update(_norm(block.ln2, f"{p}.ln_2"))
        for name, linear in (
            ("attn.c_attn", block.attn.qkv),
            ("attn.c_proj", block.attn_proj),
            ("mlp.c_fc", block.ff_in),
            ("mlp.c_proj", block.ff_out),
        ):
            sd[f"{p}.{name}.weight"] = linear.weight.T
            sd[f"{p}.{name}.bias"] = linear.bias
    sd.update(_norm(model.ln_f, "transformer.ln_f"))
    sd["lm_head.weight"] = model.head.weight
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def to_transformers(model: TransformerLM):  # -> transformers.GPT2LMHeadModel
    """The equivalent ``transformers.GPT2LMHeadModel`` (eval mode); pre-LN models only."""
    if model.post_ln:
        raise ValueError(
            "a post-LN TransformerLM has no GPT-2 equivalent (GPT-2 is pre-LN); export needs post_ln=False"
        )
    transformers = _transformers()
    cfg = model.get_config()
    eos = model.tokenizer.token_to_id(END_OF_TEXT) if model.tokenizer is not None else None
    config = transformers.GPT2Config(
        vocab_size=cfg["vocab_size"],
        n_positions=cfg["max_len"],
        n_embd=cfg["d_model"],
        n_layer=cfg["n_layers"],
        n_head=cfg["n_heads"],
        n_inner=cfg["d_ff"],
        activation_function="gelu",
        resid_pdrop=cfg["dropout"],
        embd_pdrop=cfg["dropout"],
        attn_pdrop=cfg["dropout"],
        layer_norm_epsilon=model.ln_f.eps,
        tie_word_embeddings=False,
        bos_token_id=eos,
        eos_token_id=eos,
    )
    hf = transformers.GPT2LMHeadModel(config)
    missing, unexpected = hf.load_state_dict(gpt2_state_dict(model), strict=False)
    missing = [k for k in missing if not k.endswith((".attn.bias", ".attn.masked_bias"))]
    if missing or unexpected:
        raise RuntimeError(f"GPT-2 mapping incomplete: missing {missing}, unexpected {unexpected}")
    return hf.eval()


def export_transformers(model: TransformerLM, folder: str | os.PathLike[str]) -> Path:
    """Write ``config.json`` + ``model.safetensors`` (GPT-2) and the tokenizer files into ``folder``."""
    if model.tokenizer is None:
        raise ValueError("the model has no tokenizer (tokenizer.json) to export with it")
    hf = to_transformers(model)
    folder = Path(folder)
    hf.save_pretrained(folder)
    tokenizer = _transformers().PreTrainedTokenizerFast(
        tokenizer_object=model.tokenizer, bos_token=END_OF_TEXT, eos_token=END_OF_TEXT
    )
    tokenizer.model_max_length = model.max_len
    tokenizer.save_pretrained(folder)
    return folder
