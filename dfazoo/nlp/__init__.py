"""NLP: Transformer language models trained with DFA (scaling paper §3.3)."""

from dfazoo.nlp.recipes import RECIPES
from dfazoo.nlp.task import LanguageModelingTask
from dfazoo.nlp.transformer import KVCache, TransformerLM
from dfazoo.spec import Domain, register_domain

DOMAIN = register_domain(
    Domain("nlp", architectures=(TransformerLM,), tasks=(LanguageModelingTask,), recipes=RECIPES)
)

__all__ = ["DOMAIN", "KVCache", "LanguageModelingTask", "TransformerLM"]
