"""Export a :class:`~dfazoo.nlp.TransformerLM` as a ``transformers`` checkpoint (optional extra).

The mapping is exact. A pre-LN model becomes a GPT-2 (exact GELU, ``activation_function="gelu"``,
untied head without bias); a post-LN model without final norm becomes a GPT-1
(``OpenAIGPTLMHeadModel``: post-LN, GELU's tanh approximation, feed-forward 4 x d, untied head).
Non-affine LayerNorms become unit gain and zero bias; ``Linear`` weights are transposed into the
``Conv1D`` layout. The tokenizer is saved beside it.
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
    if isinstance(model.ln_f, torch.nn.LayerNorm):
        sd.update(_norm(model.ln_f, "transformer.ln_f"))
    sd["lm_head.weight"] = model.head.weight
    return {k: v.detach().clone().contiguous() for k, v in sd.items()}


def gpt1_state_dict(model: TransformerLM) -> dict[str, torch.Tensor]:
    """A post-LN ``model``'s weights under OpenAIGPTLMHeadModel's names and layouts."""
    gpt2 = gpt2_state_dict(model)
    sd = {"transformer.tokens_embed.weight": gpt2.pop("transformer.wte.weight")}
    sd["transformer.positions_embed.weight"] = gpt2.pop("transformer.wpe.weight")
    sd.update(gpt2)
    return sd


def _sizes(cfg: dict) -> dict:
    """The ``transformers`` config fields GPT-1 and GPT-2 share, from a TransformerLM config."""
    return {
        "vocab_size": cfg["vocab_size"],
        "n_positions": cfg["max_len"],
        "n_embd": cfg["d_model"],
        "n_layer": cfg["n_layers"],
        "n_head": cfg["n_heads"],
        **dict.fromkeys(("resid_pdrop", "embd_pdrop", "attn_pdrop"), cfg["dropout"]),
    }


def to_transformers(model: TransformerLM):  # -> transformers.GPT2LMHeadModel or OpenAIGPTLMHeadModel
    """The equivalent ``transformers`` model (eval mode): GPT-2 for pre-LN, GPT-1 for post-LN."""
    if model.post_ln:
        return _to_gpt1(model)
    if model.activation != "gelu" or isinstance(model.ln_f, torch.nn.Identity):
        raise ValueError("a pre-LN model maps onto GPT-2 with activation='gelu' and final_norm=True only")
    transformers = _transformers()
    cfg = model.get_config()
    eos = model.tokenizer.token_to_id(END_OF_TEXT) if model.tokenizer is not None else None
    config = transformers.GPT2Config(
        **_sizes(cfg),
        n_inner=cfg["d_ff"],
        activation_function="gelu",
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


def _to_gpt1(model: TransformerLM):  # -> transformers.OpenAIGPTLMHeadModel
    cfg = model.get_config()
    if cfg["final_norm"] or cfg["activation"] == "gelu" or cfg["d_ff"] != 4 * cfg["d_model"]:
        raise ValueError(
            "a post-LN model maps onto GPT-1 (OpenAIGPTLMHeadModel) with final_norm=False, activation "
            "'gelu_tanh' or 'relu' and d_ff = 4 x d_model only"
        )
    transformers = _transformers()
    config = transformers.OpenAIGPTConfig(
        **_sizes(cfg),
        afn="gelu" if cfg["activation"] == "gelu_tanh" else "relu",
        layer_norm_epsilon=model.blocks[0].ln1.eps,
        tie_word_embeddings=False,
    )
    hf = transformers.OpenAIGPTLMHeadModel(config)
    missing, unexpected = hf.load_state_dict(gpt1_state_dict(model), strict=False)
    missing = [k for k in missing if not k.endswith(".attn.bias")]
    if missing or unexpected:
        raise RuntimeError(f"GPT-1 mapping incomplete: missing {missing}, unexpected {unexpected}")
    return hf.eval()


def export_transformers(model: TransformerLM, folder: str | os.PathLike[str]) -> Path:
    """Write ``config.json`` + ``model.safetensors`` (GPT-2 or GPT-1) and the tokenizer files into ``folder``."""
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
