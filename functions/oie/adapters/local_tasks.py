"""A local stand-in for Cloud Tasks: schedule times, task-name de-dup, retries with back-off.

It delivers to the dev gateway with the headers Cloud Tasks sends, so handlers see the
same requests locally as in production.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from oie import deadlines
from oie.logs import get_logger
from oie.ports import Task

log = get_logger(__name__)


@dataclass(order=True)
class _Pending:
    eta: float
    seq: int
    task: Task = field(compare=False)
    name: str = field(compare=False)
    attempt: int = field(default=0, compare=False)


class LocalTaskDispatcher:
    def __init__(
        self,
        base_url: str,
        *,
        max_attempts: int = 5,
        min_backoff: float = 0.5,
        max_backoff: float = 30.0,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._now = now
        self._heap: list[_Pending] = []
        self._names: set[str] = set()
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.delivered: list[tuple[str, int]] = []  # (task name, status), for the dev pages

    def enqueue(self, task: Task) -> bool:
        name = f"{task.queue}/{task.name or uuid.uuid4().hex}"
        eta = task.schedule_at.timestamp() if task.schedule_at else self._now()
        with self._cv:
            if name in self._names:
                return False
            self._names.add(name)
            heapq.heappush(self._heap, _Pending(eta, next(self._seq), task, name))
            self._cv.notify()
        return True

    def _deliver(self, item: _Pending) -> int:
        request = urllib.request.Request(
            f"{self.base_url}/{item.task.function}",
            data=json.dumps(item.task.payload).encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-CloudTasks-QueueName": item.task.queue,
                "X-CloudTasks-TaskName": item.name.split("/", 1)[1],
                "X-CloudTasks-TaskRetryCount": str(item.attempt),
                "X-CloudTasks-TaskExecutionCount": str(item.attempt),
                "X-CloudTasks-TaskETA": f"{item.eta:.6f}",
            },
        )
        try:
            # As Cloud Tasks' dispatch deadline: the target function's own request budget.
            budget = deadlines.for_function(item.task.function).request_seconds or 30.0
            with urllib.request.urlopen(request, timeout=budget + 5) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 503

    def _settle(self, item: _Pending, status: int) -> None:
        self.delivered.append((item.name, status))
        if 200 <= status < 300:
            return
        if item.attempt + 1 >= self.max_attempts:
            log.error(
                "task gave up",
                extra={"task": item.name, "status": status, "attempts": item.attempt + 1},
            )
            return
        delay = min(self.min_backoff * 2**item.attempt, self.max_backoff)
        with self._cv:
            heapq.heappush(
                self._heap,
                _Pending(self._now() + delay, next(self._seq), item.task, item.name, item.attempt + 1),
            )
            self._cv.notify()

    def run_due(self) -> int:
        """Deliver every task that is due now, in this thread; return how many were tried."""
        tried = 0
        while True:
            with self._cv:
                if not self._heap or self._heap[0].eta > self._now():
                    return tried
                item = heapq.heappop(self._heap)
            self._settle(item, self._deliver(item))
            tried += 1

    def pending(self) -> int:
        with self._cv:
            return len(self._heap)

    def _loop(self) -> None:
        while True:
            with self._cv:
                if self._stopping:
                    return
                wait = (self._heap[0].eta - self._now()) if self._heap else 1.0
                if wait > 0:
                    self._cv.wait(timeout=min(wait, 1.0))
                    continue
            self.run_due()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="local-tasks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopping = True
            self._cv.notify()
        if self._thread:
            self._thread.join(timeout=5)
