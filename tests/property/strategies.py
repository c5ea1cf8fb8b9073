"""Hypothesis strategies for hostile input: any JSON value (NaN, Infinity, huge and lone-surrogate
values included), bodies made of them, and near-valid pixel and SendGrid payloads."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from oie.json_input import is_clean_text

# Bounded, so each test runs in seconds. Only `too_slow` is off: how fast examples are
# generated on a shared, loaded runner says nothing about the code under test.
BOUNDED = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY_TEXT = st.sampled_from(
    ["", " ", "\ud800", "a\udfffb", "\x00", "nul\x00", "\u00b2", "\ufeff", "é" * 3, "x" * 3000, "..", "__x__", "a/b"]
)
TEXT = st.one_of(st.text(max_size=30), NASTY_TEXT)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([2**53, 2**53 + 1, 2**63, -(2**63), 1e20, 10**30, 0, -1, 1.5]),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, TEXT)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=10,
)


def dumps(value: Any) -> bytes:
    """JSON as Python writes it: NaN and Infinity as literals, lone surrogates as escapes."""
    return json.dumps(value).encode()


def deeply_nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


BODIES = st.one_of(
    st.binary(max_size=200),
    JSON_VALUES.map(dumps),
    st.integers(min_value=500, max_value=20_000).map(deeply_nested),
    st.integers(min_value=4000, max_value=6000).map(lambda n: b"[" + b"9" * n + b"]"),
)


def assert_storable(rows: list[dict[str, Any]], json_columns: tuple[str, ...] = ()) -> None:
    """What a warehouse takes: valid Unicode text and finite numbers in every column, strict JSON
    in the JSON ones."""
    for row in rows:
        for value in row.values():
            _storable(value)
        for column in json_columns:
            if row.get(column) is not None:
                _storable(json.loads(row[column], parse_constant=_refuse))
        json.dumps(row, default=str, allow_nan=False).encode("utf-8")


def _storable(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, list):
        for item in value:
            _storable(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            assert is_clean_text(key)
            _storable(item)


def _refuse(constant: str) -> None:
    raise AssertionError(f"{constant} stored")


def mutated(valid: st.SearchStrategy[dict[str, Any]], fields: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid object, half the time with one field (or one of its `props`) replaced by anything."""

    def apply(base: dict[str, Any], change: tuple[str, Any] | None) -> dict[str, Any]:
        if change is None:
            return base
        name, value = change
        if name.startswith("props.") and isinstance(base.get("props"), dict):
            return {**base, "props": {**base["props"], name.removeprefix("props."): value}}
        return {**base, name: value}

    changes = st.one_of(st.none(), st.tuples(st.sampled_from(fields), JSON_VALUES))
    return st.builds(apply, valid, changes)
