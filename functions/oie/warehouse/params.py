"""Typed query parameters: each named query declares its `@parameters` once, in its SQL block.

    -- name: lead_scores
    -- params: tenant_id STRING, limit_rows INT64

Both adapters check every call against the declaration (a missing, extra or mistyped
parameter is a programming error, raised at once), and the BigQuery adapter sends each
value with its declared type, so a `None` is a typed NULL rather than a NULL STRING.
The ZetaSQL test analyzes each query with exactly these types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

_SCALARS = ("BOOL", "INT64", "FLOAT64", "TIMESTAMP", "DATE", "STRING")
_DECLARATION = re.compile(r"^\s*([a-z_][a-z0-9_]*)\s+(ARRAY<(\w+)>|\w+)\s*$")
# Python types in the order they are tried: bool before int (a bool is an int), datetime before date.
_PYTHON_TYPES: list[tuple[type, str]] = [
    (bool, "BOOL"),
    (int, "INT64"),
    (float, "FLOAT64"),
    (datetime, "TIMESTAMP"),
    (date, "DATE"),
    (str, "STRING"),
]


class ParameterError(TypeError):
    """A call passed parameters that do not match the query's declaration."""


def scalar_type(value: Any) -> str:
    """The BigQuery type a Python value is sent as."""
    for python_type, bq_type in _PYTHON_TYPES:
        if isinstance(value, python_type):
            return bq_type
    raise ParameterError(f"no BigQuery type for {type(value).__name__}")


def parse_declaration(line: str) -> dict[str, str]:
    """`tenant_id STRING, ids ARRAY<STRING>` as {name: type}; raises ValueError on a malformed entry."""
    declared: dict[str, str] = {}
    for entry in filter(None, (part.strip() for part in line.split(","))):
        match = _DECLARATION.match(entry)
        element = (match.group(3) or match.group(2)) if match else None
        if match is None or element not in _SCALARS:
            raise ValueError(f"malformed parameter declaration {entry!r}")
        declared[match.group(1)] = match.group(2)
    return declared


def _matches(declared: str, value: Any) -> bool:
    if value is None:
        return True
    if declared.startswith("ARRAY<"):
        element = declared[len("ARRAY<") : -1]
        return isinstance(value, (list, tuple)) and all(v is not None and scalar_type(v) == element for v in value)
    if isinstance(value, (list, tuple)):
        return False
    actual = scalar_type(value)
    # An int is a valid FLOAT64 value; BigQuery coerces it the same way.
    return actual == declared or (declared == "FLOAT64" and actual == "INT64")


def check(query: str, declared: Mapping[str, str], params: Mapping[str, Any]) -> None:
    """Raise ParameterError unless params are exactly the declared names with values of their types."""
    missing = sorted(set(declared) - set(params))
    extra = sorted(set(params) - set(declared))
    if missing or extra:
        raise ParameterError(f"{query}: missing parameters {missing}, undeclared parameters {extra}")
    for name, value in params.items():
        if not _matches(declared[name], value):
            raise ParameterError(f"{query}: @{name} is declared {declared[name]}, got {value!r}")
