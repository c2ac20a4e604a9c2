"""Byte-level BPE tokenizers trained with ``tokenizers`` on a corpus's train split only.

The saved ``tokenizer.json`` also loads with
``transformers.PreTrainedTokenizerFast(tokenizer_file=...)``. Byte-level: every text encodes
(no unknown token) and ``decode(encode(text)) == text``.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

# The zoo's vocabulary (2k-8k per issue 16): small enough that the LM head and the feedback
# matrix (d_ff x vocab) stay cheap on CPU, large enough for ~3.5 characters per token.
DEFAULT_VOCAB_SIZE = 2048
END_OF_TEXT = "<|endoftext|>"


def train_bpe(text: str, vocab_size: int = DEFAULT_VOCAB_SIZE) -> Tokenizer:
    """A byte-level BPE tokenizer with ``vocab_size`` entries (256 bytes, ``<|endoftext|>`` and
    merges) trained on ``text``. Deterministic for a given text and size."""
    if not text:
        raise ValueError("cannot train a tokenizer on an empty text")
    if vocab_size < 257:
        raise ValueError(f"vocab_size={vocab_size} is below the 256 bytes + 1 special token")
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(text.splitlines(keepends=True), trainer)
    return tokenizer
