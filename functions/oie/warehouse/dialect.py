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


# BigQuery functions DuckDB knows under another name (same arguments, same meaning).
_RENAMED = {"UNIX_MILLIS": "EPOCH_MS", "UNIX_MICROS": "EPOCH_US"}


def _rename_functions(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Func):
        name = str(node.sql_name()) if not isinstance(node, exp.Anonymous) else str(node.this).upper()  # type: ignore[no-untyped-call]
        if name in _RENAMED:
            return exp.Anonymous(this=_RENAMED[name], expressions=list(node.args.values())[:1])
    return node


@lru_cache(maxsize=512)
def to_duckdb(sql: str) -> tuple[str, ...]:
    """Transpile one or more BigQuery statements into DuckDB statements."""
    statements = sqlglot.parse(sql, read="bigquery")
    return tuple(
        _strip_storage_options(statement).transform(_rename_functions).sql(dialect="duckdb")
        for statement in statements
        if statement is not None
    )


def qualify_for_bigquery(sql: str, project: str, dataset: str) -> str:
    """Give every table a project and dataset: a view keeps no default dataset, so its
    table names must be complete when it is queried later."""
    from sqlglot.optimizer.qualify_tables import qualify_tables

    return ";\n".join(
        qualify_tables(statement, db=dataset, catalog=project).sql(dialect="bigquery")
        for statement in sqlglot.parse(sql, read="bigquery")
        if statement is not None
    )


def check_bigquery(sql: str) -> None:
    """Raise when `sql` does not parse as BigQuery."""
    sqlglot.parse(sql, read="bigquery", error_level=sqlglot.ErrorLevel.RAISE)
