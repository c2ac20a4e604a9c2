"""The field encoding of a CTR model: raw field values -> one embedding index per field.

A model's ``fields`` constructor argument is a list of plain dicts (so ``config.json`` ships the
encoding with the checkpoint). Every field reserves index 0 for out-of-vocabulary values
(a never-seen id, an unknown category, ``None``); its embedding table has ``size + 1`` rows.

Kinds:
- ``{"name", "kind": "id", "size": n}``: integer ids ``1..n`` map to themselves.
- ``{"name", "kind": "category", "values": [...], "prefix": k}``: strings; the first ``k``
  characters (all when ``prefix`` is absent) are looked up in ``values`` (index = position + 1).
- ``{"name", "kind": "bucket", "boundaries": [b1, b2, ...]}``: numbers; bucket ``i + 1`` holds
  ``b_i <= x < b_{i+1}`` (bucket 1: ``x < b1``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence
from numbers import Integral, Real
from typing import Any

import torch

OOV = 0
KINDS: tuple[str, ...] = ("id", "category", "bucket")


class FieldValueError(ValueError):
    """A record that cannot be encoded: missing field, unknown field or wrong-type value."""


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


class FieldEncoder:
    """Encodes raw records with the field specs described in the module docstring."""

    def __init__(self, fields: Sequence[Mapping[str, Any]]) -> None:
        self.fields = [dict(f) for f in fields]
        self.names = [f["name"] for f in self.fields]
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"field names must be unique, got {self.names}")
        self._lookups: list[dict[str, int]] = []
        for spec in self.fields:
            if spec.get("kind") not in KINDS:
                raise ValueError(f"field {spec['name']!r}: kind {spec.get('kind')!r} not in {KINDS}")
            values = spec.get("values", [])
            self._lookups.append({v: i + 1 for i, v in enumerate(values)})

    @property
    def field_dims(self) -> list[int]:
        """Embedding rows per field, the OOV row included."""
        dims = []
        for spec in self.fields:
            kind = spec["kind"]
            n = (
                spec["size"]
                if kind == "id"
                else len(spec["values"])
                if kind == "category"
                else len(spec["boundaries"]) + 1
            )
            dims.append(int(n) + 1)
        return dims

    def _index(self, position: int, value: Any) -> int:
        spec = self.fields[position]
        name, kind = spec["name"], spec["kind"]
        if value is None:
            return OOV
        if kind == "id":
            if not _is_int(value):
                raise FieldValueError(
                    f"field {name!r}: expected an integer id, got {type(value).__name__} {value!r}"
                )
            return int(value) if 1 <= value <= spec["size"] else OOV
        if kind == "category":
            if not isinstance(value, str):
                raise FieldValueError(
                    f"field {name!r}: expected a string, got {type(value).__name__} {value!r}"
                )
            prefix = spec.get("prefix")
            return self._lookups[position].get(value[:prefix] if prefix else value, OOV)
        if not _is_number(value):
            raise FieldValueError(f"field {name!r}: expected a number, got {type(value).__name__} {value!r}")
        if math.isnan(value):
            return OOV
        return bisect.bisect_right(spec["boundaries"], value) + 1

    def encode_columns(self, columns: Mapping[str, Sequence[Any]]) -> torch.Tensor:
        """``(n, num_fields)`` int64 indices of ``{field name: n raw values}``."""
        self._check_names(columns.keys())
        lengths = {len(columns[name]) for name in self.names}
        if len(lengths) > 1:
            raise FieldValueError(f"columns have different lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0
        out = torch.empty((n, len(self.names)), dtype=torch.long)
        for j, name in enumerate(self.names):
            out[:, j] = torch.tensor([self._index(j, v) for v in columns[name]], dtype=torch.long)
        return out

    def encode(self, records: Iterable[Mapping[str, Any]]) -> torch.Tensor:
        """``(n, num_fields)`` int64 indices of ``n`` records (dicts of raw field values)."""
        if isinstance(records, Mapping):
            raise TypeError("pass a list of records (dicts of field values), not a single dict")
        records = list(records)
        for record in records:
            if not isinstance(record, Mapping):
                raise TypeError(f"each record must be a dict of field values, got {type(record).__name__}")
            self._check_names(record.keys())
        columns = {name: [r[name] for r in records] for name in self.names}
        return self.encode_columns(columns)

    def _check_names(self, given: Iterable[str]) -> None:
        given = list(given)
        unknown = [g for g in given if g not in self.names]
        if unknown:
            raise FieldValueError(
                f"unknown field {unknown[0]!r}; the model's fields are {', '.join(self.names)}"
            )
        missing = [n for n in self.names if n not in given]
        if missing:
            raise FieldValueError(
                f"missing field {missing[0]!r}; the model's fields are {', '.join(self.names)}"
            )


def id_fields(vocab_sizes: Sequence[int], prefix: str = "f") -> list[dict[str, Any]]:
    """Plain id fields ``f0, f1, ...`` of the given vocabulary sizes (the synthetic benchmark's)."""
    return [{"name": f"{prefix}{i}", "kind": "id", "size": int(n)} for i, n in enumerate(vocab_sizes)]


def example_value(field: dict[str, Any]) -> Any:
    """A valid raw value of one field spec (for card examples): an id, a bucketed number or a category."""
    if field["kind"] == "id":
        return 1
    if field["kind"] == "bucket":
        return field["boundaries"][len(field["boundaries"]) // 2]
    return field["values"][0]
