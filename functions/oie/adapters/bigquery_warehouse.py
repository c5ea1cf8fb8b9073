"""The warehouse on BigQuery: streaming inserts with insert ids, MERGE upserts, named queries.

The client is handed in (tests point the real google-cloud-bigquery client at a local
REST emulator) or built from settings. Every call carries one total deadline: the API
retry, the HTTP timeout and the job wait all end within `timeout_seconds`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY

from oie.errors import BackendUnavailable, InputError
from oie.ports import Row
from oie.warehouse import params as typed
from oie.warehouse.dialect import qualify_for_bigquery
from oie.warehouse.schema import json_columns
from oie.warehouse.sqlfiles import declared_params, named_queries, schema_files

_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.RetryError,
    gexc.DeadlineExceeded,
    TimeoutError,  # concurrent.futures.TimeoutError from job.result(timeout=...)
)


def jsonable(row: Row, json_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A row as the streaming API takes it: timestamps as ISO strings, JSON columns as JSON text."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (datetime, date)):
            value = value.isoformat()
        elif key in json_fields and value is not None and not isinstance(value, str):
            # The client sends JSON-typed values verbatim; BigQuery wants them as strings.
            value = json.dumps(value, separators=(",", ":"), default=str)
        out[key] = value
    return out


def query_parameter(
    name: str, value: Any, declared: str | None = None
) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A typed query parameter: of its declared type, else of the value's own type."""
    if declared is not None and declared.startswith("ARRAY<"):
        return bigquery.ArrayQueryParameter(name, declared[len("ARRAY<") : -1], list(value or []))
    if declared is not None:
        return bigquery.ScalarQueryParameter(name, declared, value)
    if isinstance(value, (list, tuple)):
        return bigquery.ArrayQueryParameter(name, typed.scalar_type(value[0]) if value else "STRING", list(value))
    return bigquery.ScalarQueryParameter(name, typed.scalar_type(value) if value is not None else "STRING", value)


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


def make_client(project: str, location: str | None = None) -> bigquery.Client:
    """The production client: application default credentials, the project's location."""
    return bigquery.Client(project=project, location=location)


class BigQueryWarehouse:
    def __init__(
        self,
        project: str,
        dataset: str,
        *,
        client: bigquery.Client | None = None,
        location: str | None = None,
        timeout_seconds: float = 30.0,
        sql_root: Path | None = None,
    ) -> None:
        self.client = client if client is not None else make_client(project, location)
        self.dataset = f"{project}.{dataset}"
        self.sql_root = sql_root
        self.timeout = timeout_seconds
        self._retry = bigquery.DEFAULT_RETRY.with_timeout(timeout_seconds)
        self._job_retry = DEFAULT_JOB_RETRY.with_timeout(timeout_seconds)

    def _job_config(self, name: str | None = None, params: Mapping[str, Any] | None = None) -> bigquery.QueryJobConfig:
        declared = declared_params(self.sql_root).get(name) if name else None
        if name is not None and declared is not None:
            typed.check(name, declared, params or {})
        return bigquery.QueryJobConfig(
            default_dataset=self.dataset,
            query_parameters=[query_parameter(k, v, (declared or {}).get(k)) for k, v in (params or {}).items()],
        )

    def _run(self, sql: str, config: bigquery.QueryJobConfig) -> bigquery.QueryJob:
        job = self.client.query(
            sql, job_config=config, retry=self._retry, timeout=self.timeout, job_retry=self._job_retry
        )
        job.result(timeout=self.timeout, retry=self._retry)
        return job

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        if not rows:
            return
        fields = json_columns(table, self.sql_root)
        try:
            errors = self.client.insert_rows_json(
                f"{self.dataset}.{table}",
                [jsonable(r, fields) for r in rows],
                row_ids=[str(r[id_field]) for r in rows],
                retry=self._retry,
                timeout=self.timeout,
            )
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        if errors:
            raise InputError(f"bigquery refused rows of {table}: {errors[:3]}")

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        if not rows:
            return
        fields = json_columns(table, self.sql_root)
        staging = f"{self.dataset}._staging_{table}_{uuid.uuid4().hex[:12]}"
        try:
            target = self.client.get_table(f"{self.dataset}.{table}", retry=self._retry, timeout=self.timeout)
            load = bigquery.LoadJobConfig(schema=target.schema, write_disposition="WRITE_TRUNCATE")
            self.client.load_table_from_json(
                [jsonable(r, fields) for r in rows], staging, job_config=load, timeout=self.timeout
            ).result(timeout=self.timeout, retry=self._retry)
            self._run(merge_sql(table, staging, list(rows[0]), key_fields), self._job_config())
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        finally:
            self.client.delete_table(staging, not_found_ok=True, retry=self._retry, timeout=self.timeout)

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        try:
            job = self._run(named_queries(self.sql_root)[name], self._job_config(name, params))
            return [dict(row.items()) for row in job.result(timeout=self.timeout)]
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        try:
            job = self._run(named_queries(self.sql_root)[name], self._job_config(name, params))
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"bigquery: {exc}") from exc
        return int(job.num_dml_affected_rows or 0)

    def migrate(self) -> list[str]:
        applied = []
        project, dataset = self.dataset.split(".", 1)
        for path in schema_files(self.sql_root):
            # A file is one BigQuery script; statements in it run in order. Views must name
            # their tables in full, so every file is qualified with this dataset first.
            script = qualify_for_bigquery(path.read_text(), project, dataset)
            self._run(script, self._job_config())
            applied.append(path.name)
        return applied
