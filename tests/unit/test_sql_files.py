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


def test_functions_duckdb_names_differently_are_renamed():
    (statement,) = to_duckdb("select unix_millis(timestamp '2026-01-01 00:00:01+00') as ms")
    assert "EPOCH_MS(" in statement
    import duckdb

    assert duckdb.sql(statement).fetchall() == [(1767225601000,)]


def test_views_are_qualified_with_project_and_dataset_for_bigquery_but_ctes_are_not():
    from oie.warehouse.dialect import qualify_for_bigquery

    sql = (sql_dir() / "views" / "010_events_identified.sql").read_text()
    qualified = qualify_for_bigquery(sql, "acme-prod", "oie")
    check_bigquery(qualified)
    assert "`acme-prod`.`oie`.`events`" in qualified or "`acme-prod`.oie.events" in qualified
    assert "`acme-prod`.`oie`.`links`" not in qualified and "oie.links" not in qualified  # a CTE stays a CTE


@pytest.mark.parametrize(
    "path",
    sorted((sql_dir() / "schema").glob("*.sql")) + sorted((sql_dir() / "views").glob("*.sql")),
    ids=lambda p: p.name,
)
def test_every_migration_file_still_parses_once_qualified(path):
    from oie.warehouse.dialect import qualify_for_bigquery

    check_bigquery(qualify_for_bigquery(path.read_text(), "p", "d"))
