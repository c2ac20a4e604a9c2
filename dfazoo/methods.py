"""The names every layer shares, defined once and importable without torch (the command line
lists and validates them before anything heavy is imported)."""

from __future__ import annotations

from typing import Literal

Method = Literal["bp", "dfa", "shallow"]
# bp: backpropagation; dfa: direct feedback alignment; shallow: only the top layer learns.
METHODS: tuple[str, ...] = ("bp", "dfa", "shallow")
ErrorReduction = Literal["mean", "sum"]
ERROR_REDUCTIONS: tuple[str, ...] = ("mean", "sum")
# Which feedback-point tags each placement activates.
PLACEMENTS: dict[str, frozenset[str]] = {
    "macro": frozenset({"block"}),
    "micro": frozenset({"block", "sublayer"}),
}
