"""NLP: Transformer language models trained with DFA (scaling paper §3.3)."""

from dfazoo.nlp.transformer import TransformerLM
from dfazoo.spec import Domain, register_domain

DOMAIN = register_domain(Domain("nlp", architectures=(TransformerLM,)))

__all__ = ["DOMAIN", "TransformerLM"]
