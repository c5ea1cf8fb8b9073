"""Column types of every table, read from the project's own `sql/schema` (the one source of truth)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from oie.warehouse.sqlfiles import sql_dir


def _columns(definitions: Sequence[exp.Expression]) -> dict[str, str]:
    return {
        d.name: d.args["kind"].sql(dialect="bigquery").upper()
        for d in definitions
        if isinstance(d, exp.ColumnDef) and d.args.get("kind") is not None
    }


@cache
def column_types(root: Path | None = None) -> dict[str, dict[str, str]]:
    """{table: {column: BigQuery type}} from the CREATE TABLE and ALTER TABLE ADD COLUMN statements."""
    tables: dict[str, dict[str, str]] = {}
    for path in sorted(((root or sql_dir()) / "schema").glob("*.sql")):
        for statement in sqlglot.parse(path.read_text(), read="bigquery"):
            if isinstance(statement, exp.Create) and statement.kind == "TABLE":
                table = statement.find(exp.Table)
                schema = statement.this
                if table is not None and isinstance(schema, exp.Schema):
                    tables.setdefault(table.name, {}).update(_columns(schema.expressions))
            elif isinstance(statement, exp.Alter) and statement.args.get("kind") == "TABLE":
                table = statement.this
                added = [a for a in statement.args.get("actions", []) if isinstance(a, exp.ColumnDef)]
                tables.setdefault(table.name, {}).update(_columns(added))
    return tables


def json_columns(table: str, root: Path | None = None) -> frozenset[str]:
    """The columns of `table` whose BigQuery type is JSON."""
    return frozenset(c for c, kind in column_types(root).get(table, {}).items() if kind == "JSON")
