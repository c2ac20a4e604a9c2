"""NLP: Transformer language models trained with DFA (scaling paper §3.4)."""

from dfazoo.nlp.transformer import TransformerLM

__all__ = ["TransformerLM"]
