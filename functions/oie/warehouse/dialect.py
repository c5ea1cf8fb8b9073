"""BigQuery SQL to DuckDB SQL: sqlglot, plus the one rewrite it needs here."""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp


def _strip_storage_options(node: exp.Expression) -> exp.Expression:
    """Drop `partition by`, `cluster by` and `options(...)`: BigQuery storage, no DuckDB meaning.

    sqlglot would drop them too, but with a warning per statement; DuckDB tables take
    no properties other than TEMPORARY.
    """
    properties = node.args.get("properties")
    if isinstance(node, exp.Create) and properties is not None:
        kept = [p for p in properties.expressions if isinstance(p, exp.TemporaryProperty)]
        properties.set("expressions", kept)
        if not kept:
            node.set("properties", None)
    return node


@lru_cache(maxsize=512)
def to_duckdb(sql: str) -> tuple[str, ...]:
    """Transpile one or more BigQuery statements into DuckDB statements."""
    statements = sqlglot.parse(sql, read="bigquery")
    return tuple(
        _strip_storage_options(statement).sql(dialect="duckdb") for statement in statements if statement is not None
    )


def check_bigquery(sql: str) -> None:
    """Raise when `sql` does not parse as BigQuery."""
    sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
