"""The warehouse on DuckDB, running the BigQuery SQL of `sql/` through the dialect shim."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from oie.errors import BackendUnavailable
from oie.ports import Row
from oie.warehouse.dialect import to_duckdb
from oie.warehouse.sqlfiles import named_queries, schema_files, sql_dir

_LOCK_WAIT_SECONDS = 10.0


def _value(value: Any) -> Any:
    return json.dumps(value, default=str) if isinstance(value, dict) else value


class DuckDBWarehouse:
    """A DuckDB file, shared between the local stack and the CLI.

    DuckDB lets one process at a time open a file, and opening costs ~10 ms. So a
    connection stays open while work keeps coming and is closed after `keep_open`
    seconds of quiet, which lets another process in; a process that finds the file
    locked waits for it.
    """

    def __init__(self, path: Path, sql_root: Path | None = None, keep_open: float = 1.0) -> None:
        self.path = path
        self.sql_root = sql_root or sql_dir()
        self.keep_open = keep_open
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._last_used = 0.0
        self._closer: threading.Thread | None = None
        path.parent.mkdir(parents=True, exist_ok=True)

    def _open(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + _LOCK_WAIT_SECONDS
        while True:
            try:
                connection = duckdb.connect(str(self.path))
                connection.execute("set timezone = 'UTC'")
                return connection
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise BackendUnavailable(f"warehouse file is busy: {exc}") from exc
                time.sleep(0.05)

    def _close_when_idle(self) -> None:
        while True:
            time.sleep(self.keep_open / 2)
            with self._lock:
                if self._connection is None:
                    self._closer = None
                    return
                if time.monotonic() - self._last_used >= self.keep_open:
                    self._connection.close()
                    self._connection = None

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, held by this thread for one unit of work."""
        with self._lock:
            if self._connection is None:
                self._connection = self._open()
            try:
                yield self._connection
            finally:
                self._last_used = time.monotonic()
                if self.keep_open <= 0:
                    self.close_now()
                elif self._closer is None:
                    self._closer = threading.Thread(target=self._close_when_idle, daemon=True)
                    self._closer.start()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection inside one transaction, rolled back if the work fails."""
        with self.connect() as db:
            db.execute("begin")
            try:
                yield db
            except BaseException:
                db.execute("rollback")
                raise
            db.execute("commit")

    def close(self) -> None:
        """Release the file now (the local stack and tests, on shutdown)."""
        with self._lock:
            self.close_now()

    def close_now(self) -> None:
        """Release the file at once; the caller holds the lock."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        if not rows:
            return
        columns = list(rows[0])
        placeholders = ", ".join("?" for _ in columns)
        sql = (
            f'insert into "{table}" ({", ".join(columns)}) select {placeholders} '
            f'where not exists (select 1 from "{table}" where {id_field} = ?)'
        )
        values = [[_value(row.get(c)) for c in columns] + [row[id_field]] for row in rows]
        with self.connect() as db:
            db.executemany(sql, values)

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        match = " and ".join(f"{k} = ?" for k in key_fields)
        with self.transaction() as db:
            db.executemany(f'delete from "{table}" where {match}', [[r[k] for k in key_fields] for r in rows])
            db.executemany(
                f'insert into "{table}" ({", ".join(columns)}) values ({", ".join("?" for _ in columns)})',
                [[_value(row.get(c)) for c in columns] for row in rows],
            )

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        (statement,) = to_duckdb(named_queries(self.sql_root)[name])
        return self.sql(statement, params)

    def sql(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run DuckDB SQL directly (tests, the local dev pages)."""
        with self.connect() as db:
            cursor = db.execute(statement, dict(params or {}))
            if cursor.description is None:
                return []
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def migrate(self) -> list[str]:
        applied = []
        with self.connect() as db:
            for path in schema_files(self.sql_root):
                for statement in to_duckdb(path.read_text()):
                    db.execute(statement)
                    applied.append(f"{path.name}: {statement.split('(')[0][:80]}")
        return applied
