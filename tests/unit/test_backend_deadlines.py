"""Siblings of Firestore's deadline: DuckDB's file lock and outbound webhooks end within budget too."""

import socket
import threading
import time

import pytest

from oie import deadlines
from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.adapters.http_sender import HttpSender
from oie.errors import BackendUnavailable

GO = deadlines.for_function("go")


def within_go(call):
    """Run `call` as /go would; return how long it took to fail with BackendUnavailable."""

    @deadlines.serving("go")
    def run():
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="try again"):
            call()
        return time.monotonic() - started

    return run()


def test_a_missing_warehouse_is_an_outage_and_is_not_recreated_empty(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", keep_open=0)
    within_go(lambda: warehouse.sql("select 1"))
    assert not (tmp_path / "w.duckdb").exists()
    warehouse.migrate()  # only migrate creates it
    assert warehouse.sql("select 1 as one") == [{"one": 1}]


def test_a_warehouse_busy_in_another_thread_waits_no_longer_than_the_budget(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "w.duckdb", keep_open=0)
    warehouse.migrate()
    holding, release = threading.Event(), threading.Event()

    def hold():
        with warehouse.connect():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        holding.wait(5)
        assert within_go(lambda: warehouse.sql("select 1")) < GO.warehouse_seconds + 0.3
    finally:
        release.set()
        holder.join()
    warehouse.close()


def test_a_receiver_that_never_answers_costs_the_http_budget_not_forever():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)  # accepts connections (the backlog), never answers
        url = f"http://127.0.0.1:{server.getsockname()[1]}/hook"
        sender = HttpSender(allow_http=True)
        assert within_go(lambda: sender.post(url, b"{}", {})) < GO.http_seconds + 0.3
