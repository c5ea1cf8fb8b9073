"""DuckDB appends: de-duplicated on the unique index, written together when callers queue up,
each caller answered with its own outcome, and an id never stored twice, across processes too."""

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oie import deadlines
from oie.adapters.duckdb_appends import Append
from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.errors import BackendUnavailable

REPO = Path(__file__).resolve().parents[3]
AT = datetime(2026, 3, 1, tzinfo=UTC)


def event(event_id, **columns):
    return {
        "event_id": event_id,
        "tenant_id": "acme",
        "visitor_id": "v1",
        "session_id": "s1",
        "identity_status": "anonymous",
        "event_type": "pageview",
        "occurred_at": AT,
        "received_at": AT,
        "is_bot": False,
        **columns,
    }


@pytest.fixture
def warehouse(tmp_path):
    w = DuckDBWarehouse(tmp_path / "w.duckdb")
    w.migrate()
    yield w
    w.close()


def ids(warehouse):
    return [r["event_id"] for r in warehouse.sql("select event_id from events order by event_id")]


def test_migrate_gives_events_a_unique_index_that_appends_skip_stored_ids_by(warehouse):
    (index,) = warehouse.sql("select index_name, is_unique from duckdb_indexes() where table_name = 'events'")
    assert index == {"index_name": "events__event_id__key", "is_unique": True}
    warehouse.insert_rows("events", [event("e1"), event("e2")], id_field="event_id")
    warehouse.insert_rows("events", [event("e2", event_type="scroll"), event("e3")], id_field="event_id")
    assert ids(warehouse) == ["e1", "e2", "e3"]
    assert warehouse.sql("select event_type from events where event_id = 'e2'") == [{"event_type": "pageview"}]


def test_an_id_repeated_inside_one_append_is_stored_once_its_first_copy(warehouse):
    warehouse.insert_rows("events", [event("e1"), event("e1", event_type="scroll")], id_field="event_id")
    assert warehouse.sql("select event_id, event_type from events") == [{"event_id": "e1", "event_type": "pageview"}]


def test_concurrent_appends_of_the_same_batch_store_every_row_exactly_once(warehouse):
    shared = [event(f"shared-{n:02d}") for n in range(20)]
    start = threading.Barrier(8)
    failures = []

    def writer(k):
        try:
            start.wait(5)
            for round_ in range(5):  # the same batch retried by every writer, next to rows of its own
                warehouse.insert_rows("events", [*shared, event(f"own-{k}-{round_}")], id_field="event_id")
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    stored = ids(warehouse)
    assert len(stored) == len(set(stored)) == 20 + 8 * 5


def test_one_callers_bad_row_fails_only_that_caller_when_appended_together(warehouse):
    # Two callers already waiting: the next one in writes all three in one go.
    good = Append("events", "event_id", [event("good")])
    bad = Append("events", "event_id", [event("bad", is_bot=None)])  # events.is_bot is not null
    warehouse._appends.add(good)
    warehouse._appends.add(bad)
    warehouse.insert_rows("events", [event("mine")], id_field="event_id")
    assert good.done and good.error is None
    assert bad.done and bad.error is not None
    assert ids(warehouse) == ["good", "mine"]


def test_a_caller_that_gives_up_waiting_leaves_nothing_to_be_written_later(warehouse):
    holding, release = threading.Event(), threading.Event()

    def hold():
        with warehouse.connect():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)

    @deadlines.serving("track")
    def append():
        warehouse.insert_rows("events", [event("late")], id_field="event_id")

    try:
        with pytest.raises(BackendUnavailable):
            append()
    finally:
        release.set()
        holder.join()
    assert warehouse._appends.take() == []
    warehouse.insert_rows("events", [event("next")], id_field="event_id")
    assert ids(warehouse) == ["next"]  # the 503'd rows are the retry's to write


def test_an_id_another_process_stored_is_not_stored_again(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse = DuckDBWarehouse(path, keep_open=0)
    warehouse.migrate()
    warehouse.insert_rows("events", [event("e1")], id_field="event_id")
    script = (
        "from datetime import UTC, datetime\n"
        "from pathlib import Path\n"
        "from oie.adapters.duckdb_warehouse import DuckDBWarehouse\n"
        "at = datetime(2026, 3, 1, tzinfo=UTC)\n"
        "row = lambda i: {'event_id': i, 'tenant_id': 'acme', 'visitor_id': 'v1', 'session_id': 's1',\n"
        "    'identity_status': 'anonymous', 'event_type': 'pageview', 'occurred_at': at, 'received_at': at,\n"
        "    'is_bot': False}\n"
        f"w = DuckDBWarehouse(Path({str(path)!r}), keep_open=0)\n"
        "w.insert_rows('events', [row('e1'), row('e2')], id_field='event_id')\n"
        "w.close()\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=REPO / "functions", timeout=120)
    warehouse.insert_rows("events", [event("e2"), event("e3")], id_field="event_id")
    assert ids(warehouse) == ["e1", "e2", "e3"]


def test_a_table_that_already_holds_duplicate_ids_keeps_de_duplicating_without_the_index(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb")
    warehouse.migrate()
    warehouse.sql("drop index events__event_id__key")
    warehouse.sql("insert into events by name select * from (values ('e1', 'acme', 'v1', 's1', 'anonymous', "
                  "'pageview', timestamptz '2026-03-01 00:00:00+00', timestamptz '2026-03-01 00:00:00+00', false)) "
                  "as t(event_id, tenant_id, visitor_id, session_id, identity_status, event_type, occurred_at, "
                  "received_at, is_bot)")  # fmt: skip
    warehouse.sql("insert into events select * from events")  # written twice before any index existed
    applied = DuckDBWarehouse.migrate(warehouse)
    assert "events__event_id__key: not created, events holds duplicate event_ids" in applied
    warehouse.insert_rows("events", [event("e1"), event("e2")], id_field="event_id")
    assert ids(warehouse) == ["e1", "e1", "e2"]
    warehouse.close()
