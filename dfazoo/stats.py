"""Mean ± std over seeds, computed and written one way in every table and card.

The std is the *sample* std (``statistics.stdev``, n - 1 in the denominator). It is undefined
for one value, so ``mean_std`` returns None for it and the formatted text shows the mean alone;
for no values the mean is NaN and the text is ``n/a``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable

STD_NOTE = "mean ± sample std"


def mean_std(values: Iterable[float]) -> tuple[float, float | None]:
    """Mean and sample std of ``values``; std None for fewer than two values, mean NaN for none."""
    values = list(values)
    if not values:
        return math.nan, None
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def format_pair(mean: float | None, std: float | None = None, digits: int = 2) -> str:
    """``"62.04 ± 0.57"``; the mean alone when ``std`` is None; ``n/a`` for a missing/NaN mean."""
    if mean is None or math.isnan(mean):
        return "n/a"
    return f"{mean:.{digits}f}" if std is None else f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_mean_std(values: Iterable[float], digits: int = 2) -> str:
    """``values`` as ``"mean ± sample std"`` with ``digits`` decimals (see :func:`format_pair`)."""
    return format_pair(*mean_std(values), digits=digits)
