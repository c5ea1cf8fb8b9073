"""The local Cloud Tasks stand-in, delivering over real HTTP to a local server."""

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oie.adapters.local_tasks import LocalTaskDispatcher
from oie.ports import Task


class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[tuple[str, dict, dict]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                status = 503 if len(receiver.calls) <= receiver.fail_first else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def clock():
    return {"now": 1000.0}


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


def dispatcher(url, clock, **kw):
    return LocalTaskDispatcher(url, now=lambda: clock["now"], **kw)


def test_a_task_is_delivered_with_cloud_tasks_headers(receiver, clock):
    d = dispatcher(receiver.url, clock)
    assert d.enqueue(Task(queue="campaign-steps", function="campaign_step", payload={"a": 1}, name="step-1"))
    assert d.run_due() == 1
    path, headers, body = receiver.calls[0]
    assert path == "/campaign_step" and body == {"a": 1}
    assert headers["x-cloudtasks-queuename"] == "campaign-steps"
    assert headers["x-cloudtasks-taskname"] == "step-1"
    assert headers["x-cloudtasks-taskretrycount"] == "0"


def test_a_task_name_is_used_once(receiver, clock):
    d = dispatcher(receiver.url, clock)
    task = Task(queue="q", function="f", payload={}, name="same")
    assert d.enqueue(task) is True
    assert d.enqueue(task) is False
    d.run_due()
    assert len(receiver.calls) == 1


def test_a_task_waits_for_its_schedule_time(receiver, clock):
    d = dispatcher(receiver.url, clock)
    d.enqueue(Task(queue="q", function="f", payload={}, schedule_at=datetime.fromtimestamp(1060, UTC)))
    assert d.run_due() == 0
    clock["now"] = 1060.0
    assert d.run_due() == 1


def test_failures_are_retried_with_growing_back_off_then_given_up():
    receiver = Receiver(fail_first=10)
    clock = {"now": 0.0}
    d = dispatcher(receiver.url, clock, max_attempts=3, min_backoff=1.0)
    d.enqueue(Task(queue="q", function="f", payload={}, name="flaky"))
    d.run_due()
    clock["now"] = 0.9
    assert d.run_due() == 0  # back-off not over
    clock["now"] = 1.0
    d.run_due()
    clock["now"] = 2.9
    assert d.run_due() == 0  # second back-off is 2 s
    clock["now"] = 3.0
    d.run_due()
    assert [c[1]["x-cloudtasks-taskretrycount"] for c in receiver.calls] == ["0", "1", "2"]
    assert d.pending() == 0
    receiver.server.shutdown()
    receiver.server.server_close()
