"""Every statement the project sends to BigQuery, analyzed by Google's ZetaSQL as BigQuery would.

sqlglot's BigQuery parser accepts nearly anything; ZetaSQL resolves names and types against
a catalog built from the project's own CREATE statements, so a statement it refuses would
fail on the first deploy. A new statement BigQuery would reject fails here first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oie.adapters.bigquery_warehouse import merge_sql
from oie.warehouse.dialect import qualify_for_bigquery
from oie.warehouse.sqlfiles import declared_params, named_queries, schema_files
from tests.sql import bigquery_analyzer as zeta

REPO = Path(__file__).resolve().parents[2]
SQL = REPO / "sql"
# Tables the adapter upserts into with its generated MERGE (oie.adapters.bigquery_warehouse.upsert_rows).
UPSERTED = {"identity_map": ("tenant_id", "tracking_id")}


def _types(declared: dict[str, str]) -> dict[str, object]:
    return {
        name: zeta.array_of(kind[len("ARRAY<") : -1]) if kind.startswith("ARRAY<") else zeta.scalar(kind)
        for name, kind in declared.items()
    }


@pytest.fixture(scope="module")
def migrated() -> tuple[zeta.Catalog, dict[str, str]]:
    """The catalog `migrate` leaves behind, built from the schema scripts, and each script's refusal."""
    built, refused = zeta.Catalog(), {}
    for path in schema_files(SQL):
        try:
            list(zeta.analyze_script(path.read_text(), built))
        except zeta.AnalysisError as exc:
            refused[path.name] = str(exc)
    return built, refused


@pytest.fixture(scope="module")
def catalog(migrated) -> zeta.Catalog:
    return migrated[0]


def test_the_analyzer_refuses_what_bigquery_refuses(catalog):
    # The oracle must be able to fail: these are all statements BigQuery rejects.
    for bad in (
        "select 1 as select",
        "select sum(sum(visit_number)) from events",
        "select qualify from events",
        "select nope from events",
        "select * from events where received_at > @since",  # an undeclared parameter
    ):
        with pytest.raises(zeta.AnalysisError):
            list(zeta.analyze_script(bad, catalog, learn=False))


@pytest.mark.parametrize("path", schema_files(SQL), ids=lambda p: p.name)
def test_schema_and_views_analyze_as_written(path, migrated):
    assert path.name not in migrated[1], migrated[1][path.name]


def test_schema_and_views_analyze_as_migrate_sends_them():
    # `migrate` qualifies every table with project and dataset (views keep no default dataset).
    built = zeta.Catalog()
    for path in schema_files(SQL):
        script = qualify_for_bigquery(path.read_text(), zeta.PROJECT, zeta.DATASET)
        assert list(zeta.analyze_script(script, built)), path.name
    assert {"events", "sessions", "lead_profiles"} <= set(built.tables)


def test_every_named_query_declares_its_parameters():
    undeclared = [name for name, declared in declared_params(SQL).items() if declared is None]
    assert not undeclared, f"add a `-- params:` line to {undeclared}"


@pytest.mark.parametrize("name", sorted(named_queries(SQL)))
def test_named_queries_and_jobs_analyze_with_their_declared_parameter_types(name, catalog):
    declared = declared_params(SQL)[name]
    assert declared is not None, f"{name} has no `-- params:` line"
    (statement,) = zeta.analyze_script(named_queries(SQL)[name], catalog, _types(declared), learn=False)
    assert statement is not None


@pytest.mark.parametrize("table", sorted(UPSERTED))
def test_the_adapters_generated_merge_analyzes(table, catalog):
    columns = [c.name for c in catalog.tables[table]]
    staged = zeta.Catalog(tables={**catalog.tables, f"_staging_{table}_0123456789ab": catalog.tables[table]})
    sql = merge_sql(table, f"_staging_{table}_0123456789ab", columns, UPSERTED[table])
    (statement,) = zeta.analyze_script(sql, staged, learn=False)
    assert type(statement).__name__ == "ResolvedMergeStmt"
