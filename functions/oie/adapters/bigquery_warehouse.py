"""The warehouse on BigQuery: streaming inserts with insert ids, MERGE upserts, named queries."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import bigquery

from oie.errors import BackendUnavailable, InputError
from oie.ports import Row
from oie.warehouse.dialect import qualify_for_bigquery
from oie.warehouse.sqlfiles import named_queries, schema_files

_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.RetryError,
)
_SCALAR_TYPES: list[tuple[type, str]] = [
    (bool, "BOOL"),  # before int: bool is an int
    (int, "INT64"),
    (float, "FLOAT64"),
    (datetime, "TIMESTAMP"),
    (date, "DATE"),
    (str, "STRING"),
]


def jsonable(row: Row) -> dict[str, Any]:
    """A row as the streaming API takes it: timestamps as ISO strings."""
    return {k: v.isoformat() if isinstance(v, (datetime, date)) else v for k, v in row.items()}


def _type_of(value: Any) -> str:
    for python_type, bq_type in _SCALAR_TYPES:
        if isinstance(value, python_type):
            return bq_type
    raise InputError(f"no BigQuery type for {type(value).__name__}")


def query_parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A typed query parameter from a Python value (lists become arrays of their first item's type)."""
    if isinstance(value, (list, tuple)):
        return bigquery.ArrayQueryParameter(name, _type_of(value[0]) if value else "STRING", list(value))
    return bigquery.ScalarQueryParameter(name, _type_of(value) if value is not None else "STRING", value)


def merge_sql(table: str, staging: str, columns: Sequence[str], key_fields: Sequence[str]) -> str:
    """MERGE a staging table into `table`, replacing rows with the same key."""
    on = " and ".join(f"t.{k} = s.{k}" for k in key_fields)
    updates = ", ".join(f"{c} = s.{c}" for c in columns if c not in key_fields)
    names = ", ".join(columns)
    values = ", ".join(f"s.{c}" for c in columns)
    return (
        f"merge {table} t using {staging} s on {on} "
        f"when matched then update set {updates} "
        f"when not matched then insert ({names}) values ({values})"
    )


class BigQueryWarehouse:
    def __init__(self, project: str, dataset: str, location: str | None = None) -> None:
        self.client = bigquery.Client(project=project, location=location)
        self.dataset = f"{project}.{dataset}"

    def _job_config(self, params: Mapping[str, Any] | None = None) -> bigquery.QueryJobConfig:
        return bigquery.QueryJobConfig(
            default_dataset=self.dataset,
            query_parameters=[query_parameter(k, v) for k, v in (params or {}).items()],
        )

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        if not rows:
            return
        try:
            errors = self.client.insert_rows_json(
                f"{self.dataset}.{table}",
                [jsonable(r) for r in rows],
                row_ids=[str(r[id_field]) for r in rows],
            )
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        if errors:
            raise InputError(f"bigquery refused rows of {table}: {errors[:3]}")

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        if not rows:
            return
        target = self.client.get_table(f"{self.dataset}.{table}")
        staging = f"{self.dataset}._staging_{table}_{uuid.uuid4().hex[:12]}"
        try:
            load = bigquery.LoadJobConfig(schema=target.schema, write_disposition="WRITE_TRUNCATE")
            self.client.load_table_from_json([jsonable(r) for r in rows], staging, job_config=load).result()
            sql = merge_sql(table, staging, list(rows[0]), key_fields)
            self.client.query(sql, job_config=self._job_config()).result()
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        finally:
            self.client.delete_table(staging, not_found_ok=True)

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            job = self.client.query(named_queries()[name], job_config=self._job_config(params))
            return [dict(row.items()) for row in job.result()]
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        try:
            job = self.client.query(named_queries()[name], job_config=self._job_config(params))
            job.result()
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        return int(job.num_dml_affected_rows or 0)

    def migrate(self) -> list[str]:
        applied = []
        for path in schema_files():
            # A file is one BigQuery script; statements in it run in order. Views must name
            # their tables in full, so every file is qualified with this dataset first.
            project, dataset = self.dataset.split(".", 1)
            script = qualify_for_bigquery(path.read_text(), project, dataset)
            self.client.query(script, job_config=self._job_config()).result()
            applied.append(path.name)
        return applied
