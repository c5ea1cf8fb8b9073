"""Every file in sql/ is BigQuery SQL that also runs, transpiled, on DuckDB."""

import pytest

from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.warehouse.dialect import check_bigquery, to_duckdb
from oie.warehouse.sqlfiles import named_queries, schema_files, split_named, sql_dir

ALL_SQL = sorted(sql_dir().rglob("*.sql"))


@pytest.mark.parametrize("path", ALL_SQL, ids=lambda p: p.name)
def test_every_sql_file_parses_as_bigquery(path):
    check_bigquery(path.read_text())


def test_bigquery_storage_options_are_dropped_for_duckdb():
    (statement,) = to_duckdb(
        "create table if not exists t (a string, at timestamp) partition by date(at) cluster by a "
        "options (partition_expiration_days = 730)"
    )
    assert statement == "CREATE TABLE IF NOT EXISTS t (a TEXT, at TIMESTAMPTZ)"


def test_the_schema_applies_to_a_fresh_duckdb_twice(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    first = warehouse.migrate()
    assert len(first) >= len(schema_files())
    assert warehouse.migrate() == first  # idempotent
    tables = {r["table_name"] for r in warehouse.sql("select table_name from information_schema.tables")}
    assert {"email_clicks", "identity_map", "email_click_quality"} <= tables


def test_named_blocks_are_split_by_their_name_comment():
    blocks = split_named("-- name: one\nselect 1;\n-- name: two\nselect 2\n")
    assert blocks == {"one": "select 1", "two": "select 2"}


def test_every_named_query_transpiles_to_duckdb():
    for name, sql in named_queries().items():
        assert to_duckdb(sql), name
