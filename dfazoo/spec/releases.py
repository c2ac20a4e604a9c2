"""Which run each zoo model is released from: data, not code.

Each domain package keeps a ``releases.json`` beside its recipes, ``{model_id: record}``, and
loads it with :func:`load_releases` when it builds its zoo recipes. A record names:

- ``rule``: how the run was chosen (e.g. "median test seed of 10", "best validation", "seed 0");
- ``table``: the committed result file whose runs it was chosen from;
- ``seed`` and ``row``: the chosen run's seed and the table row's recipe arguments (practice,
  epochs, ...), which the domain applies to build the zoo recipe, so the zoo model retrains the
  chosen run exactly;
- ``run_key``: :meth:`Recipe.run_key` of that run (a test checks the zoo recipe still has it).

Cards and the release tests read the choice through :func:`release_of`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_RELEASES: dict[str, Release] = {}


@dataclass(frozen=True)
class Release:
    model_id: str
    rule: str
    table: str
    seed: int
    run_key: str
    row: dict[str, Any] = field(default_factory=dict)

    def note(self) -> str:
        """One sentence for the card: the rule and the table the released run came from."""
        return f"Released run: {self.rule}, of this row's runs in {self.table}."


def load_releases(path: Path) -> dict[str, Release]:
    """Read ``path`` and register its records; a model released twice raises."""
    records = {mid: Release(model_id=mid, **rec) for mid, rec in json.loads(Path(path).read_text()).items()}
    clash = sorted(set(records) & set(_RELEASES))
    if clash and any(_RELEASES[m] != records[m] for m in clash):
        raise ValueError(f"release records registered twice: {clash}")
    _RELEASES.update(records)
    return records


def release_of(model_id: str) -> Release | None:
    """The release record of ``model_id`` (None when no rule chose its run: seed 0 of its recipe)."""
    return _RELEASES.get(model_id)


def all_releases() -> dict[str, Release]:
    return dict(_RELEASES)
