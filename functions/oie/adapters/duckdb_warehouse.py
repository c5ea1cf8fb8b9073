"""The warehouse on DuckDB, running the BigQuery SQL of `sql/` through the dialect shim."""

from __future__ import annotations

import atexit
import json
import re
import threading
import time
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb

from oie import deadlines
from oie.adapters.duckdb_appends import Append, AppendQueue, first_of_each_id, write_all
from oie.errors import BackendUnavailable
from oie.logs import get_logger
from oie.ports import Row
from oie.warehouse.dialect import to_duckdb
from oie.warehouse.params import check as check_params
from oie.warehouse.sqlfiles import declared_params, named_queries, schema_files, sql_dir

# Every warehouse still open; closed before the interpreter exits, because a DuckDB
# connection torn down during interpreter shutdown aborts the process.
_OPEN: weakref.WeakSet[DuckDBWarehouse] = weakref.WeakSet()
log = get_logger(__name__)
# Append-only tables written on the request path, whose id is unique on its own: a unique
# index de-duplicates their appends, so an insert costs the same at 10M rows as at none
# (an anti-join against the whole id column grows with the table). Other tables keep the
# anti-join. DuckDB cannot change an indexed table's column types: such a migration drops
# the index first.
KEYED = {"events": "event_id", "email_clicks": "click_id"}


@atexit.register
def _close_all() -> None:
    for warehouse in list(_OPEN):
        warehouse.close()


def _bind(statement: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Only the parameters the statement names: DuckDB refuses extra ones, BigQuery ignores them."""
    used = set(re.findall(r"\$([A-Za-z_]\w*)", statement))
    return {k: v for k, v in (params or {}).items() if k in used}


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, (datetime, date)) else str(value)


def _json_value(value: Any, column_type: str) -> Any:
    """JSON columns take the document itself; callers may hand it over already serialised."""
    if column_type == "JSON" and isinstance(value, str):
        return json.loads(value)
    return value


def _index_name(table: str, id_field: str) -> str:
    return f"{table}__{id_field}__key"


class DuckDBWarehouse:
    """A DuckDB file, shared between the local stack and the CLI.

    DuckDB lets one process at a time open a file, and opening costs ~10 ms. So a
    connection stays open while work keeps coming and is closed after `keep_open`
    seconds of quiet, which lets another process in; a process that finds the file
    locked waits for it, as long as its warehouse budget allows (oie.deadlines). Only
    `migrate` creates the file: a missing warehouse is an outage, not a new empty one.
    """

    def __init__(self, path: Path, sql_root: Path | None = None, keep_open: float = 1.0) -> None:
        self.path = path
        self.sql_root = sql_root or sql_dir()
        self.keep_open = keep_open
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._last_used = 0.0
        self._closer: threading.Thread | None = None
        self._types: dict[str, dict[str, str]] = {}
        self._key_index: dict[tuple[str, str], bool] = {}
        self._appends = AppendQueue()
        path.parent.mkdir(parents=True, exist_ok=True)
        _OPEN.add(self)

    def _open(self, deadline: float, create: bool) -> duckdb.DuckDBPyConnection:
        while True:
            if not create and not self.path.is_file():
                raise BackendUnavailable(f"the warehouse {self.path} is missing; try again shortly")
            try:
                connection = duckdb.connect(str(self.path))
                connection.execute("set timezone = 'UTC'")
                return connection
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    raise BackendUnavailable(
                        f"the warehouse is busy or unavailable ({exc}); try again shortly"
                    ) from exc
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
    def connect(self, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection, held by this thread for one unit of work."""
        # One deadline for both waits: on another thread of ours, and on another process.
        deadline = time.monotonic() + deadlines.seconds("warehouse")
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.001)):
            raise BackendUnavailable("the warehouse is busy; try again shortly")
        try:
            if self._connection is not None and not self.path.is_file():
                self.close_now()  # the file was deleted under us: writes would go nowhere
            if self._connection is None:
                self._connection = self._open(deadline, create)
            try:
                yield self._connection
            finally:
                self._last_used = time.monotonic()
                if self.keep_open <= 0:
                    self.close_now()
                elif self._closer is None:
                    self._closer = threading.Thread(target=self._close_when_idle, daemon=True)
                    self._closer.start()
        finally:
            self._lock.release()

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

    def _columns(self, db: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
        if table not in self._types:
            rows = db.execute(
                "select column_name, data_type from information_schema.columns where table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
            self._types[table] = {name: kind for name, kind in rows}
        return self._types[table]

    def _batch(self, db: duckdb.DuckDBPyConnection, table: str, rows: Sequence[Row]) -> tuple[str, str]:
        """The rows as one JSON document and the `from_json` spec that types them.

        One parameter per batch instead of one per value: binding values one by one
        costs more than the insert itself.
        """
        types = self._columns(db, table)
        columns = list(rows[0])
        unknown = [c for c in columns if c not in types]
        if unknown:
            raise ValueError(f"{table} has no column(s) {', '.join(unknown)}")
        document = json.dumps([{c: _json_value(row.get(c), types[c]) for c in columns} for row in rows], default=_iso)
        spec = json.dumps([{c: types[c] for c in columns}]).replace("'", "''")
        return document, spec

    def insert_rows(self, table: str, rows: Sequence[Row], *, id_field: str) -> None:
        """Append `rows`, skipping ids already stored; returns once they are committed.

        Callers that arrive while another holds the connection are appended together by the
        next one in (oie.adapters.duckdb_appends): one statement and one commit for all.
        """
        if not rows:
            return
        append = Append(table, id_field, rows)
        self._appends.add(append)
        try:
            with self.connect() as db:
                if not append.done:
                    write_all(self._appends.take(), lambda t, f, r: self._append(db, t, f, r))
        except BackendUnavailable:
            # Not taken by another writer: never written, the caller's retry writes it.
            if self._appends.withdraw(append) or not append.done or append.error is not None:
                raise
        if append.error is not None:
            raise append.error

    def _append(self, db: duckdb.DuckDBPyConnection, table: str, id_field: str, rows: Sequence[Row]) -> None:
        document, spec = self._batch(db, table, first_of_each_id(rows, id_field))
        source = f"select r.* from (select unnest(from_json(?::json, '{spec}')) as r)"
        if self._keyed(db, table, id_field):
            # The unique index finds a stored id in O(log n): the cost does not grow with the table.
            db.execute(f'insert or ignore into "{table}" by name {source}', [document])
        else:
            db.execute(
                f'insert into "{table}" by name {source} '
                f'where r.{id_field} not in (select {id_field} from "{table}" where {id_field} is not null)',
                [document],
            )

    def _keyed(self, db: duckdb.DuckDBPyConnection, table: str, id_field: str) -> bool:
        """Whether `table` has its unique index on `id_field` (looked up once per process)."""
        if (table, id_field) not in self._key_index:
            found = db.execute(
                "select count(*) from duckdb_indexes() where table_name = ? and index_name = ? and is_unique",
                [table, _index_name(table, id_field)],
            ).fetchone()
            self._key_index[(table, id_field)] = bool(found and found[0])
        return self._key_index[(table, id_field)]

    def upsert_rows(self, table: str, rows: Sequence[Row], *, key_fields: Sequence[str]) -> None:
        if not rows:
            return
        keys = ", ".join(key_fields)
        with self.transaction() as db:
            document, spec = self._batch(db, table, rows)
            db.execute(
                f"create or replace temp table _upsert as select r.* from "
                f"(select unnest(from_json(?::json, '{spec}')) as r)",
                [document],
            )
            db.execute(f'delete from "{table}" where ({keys}) in (select ({keys}) from _upsert)')
            db.execute(f'insert into "{table}" by name select * from _upsert')
            db.execute("drop table _upsert")

    def query(self, name: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        (statement,) = to_duckdb(self._named(name, params))
        return self.sql(statement, params)

    def execute(self, name: str, params: Mapping[str, Any] | None = None) -> int:
        (statement,) = to_duckdb(self._named(name, params))
        with self.connect() as db:
            cursor = db.execute(statement, _bind(statement, params))
            row = cursor.fetchone() if cursor.description else None
        return int(row[0]) if row and isinstance(row[0], int) else 0

    def _named(self, name: str, params: Mapping[str, Any] | None) -> str:
        # The same parameter check as on BigQuery, so every local run proves its call sites' types.
        declared = declared_params(self.sql_root)[name]
        if declared is not None:
            check_params(name, declared, params or {})
        return named_queries(self.sql_root)[name]

    def sql(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Run DuckDB SQL directly (tests, the local dev pages)."""
        with self.connect() as db:
            cursor = db.execute(statement, _bind(statement, params))
            if cursor.description is None:
                return []
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def migrate(self) -> list[str]:
        self._types.clear()
        self._key_index.clear()
        applied = []
        with self.connect(create=True) as db:
            for path in schema_files(self.sql_root):
                for statement in to_duckdb(path.read_text()):
                    db.execute(statement)
                    applied.append(f"{path.name}: {statement.split('(')[0][:80]}")
            for table, id_field in KEYED.items():
                applied.append(self._create_key_index(db, table, id_field))
        return applied

    def _create_key_index(self, db: duckdb.DuckDBPyConnection, table: str, id_field: str) -> str:
        name = _index_name(table, id_field)
        try:
            db.execute(f'create unique index if not exists "{name}" on "{table}" ({id_field})')
        except duckdb.ConstraintException as exc:
            # Rows written twice before the index existed: still correct through the anti-join.
            log.warning("no unique index on a table holding duplicate ids", extra={"table": table, "error": str(exc)})
            return f"{name}: not created, {table} holds duplicate {id_field}s"
        return f"{name}: unique index on {table} ({id_field})"
