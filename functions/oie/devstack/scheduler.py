"""The local scheduler loop: runs the job registry's cron schedules against the gateway's /jobs."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from croniter import croniter

from oie.jobs.registry import JobSpec, load_registry
from oie.logs import get_logger

log = get_logger(__name__)


def next_runs(jobs: dict[str, JobSpec], after: datetime) -> dict[str, datetime]:
    """When each job runs next after `after`, in UTC."""
    runs = {}
    for name, job in jobs.items():
        local = after.astimezone(ZoneInfo(job.timezone))
        runs[name] = croniter(job.schedule, local).get_next(datetime).astimezone(UTC)
    return runs


class SchedulerLoop:
    """Posts `{"job": name}` to /jobs when each job is due, as Cloud Scheduler does."""

    def __init__(self, jobs_url: str) -> None:
        self.jobs_url = jobs_url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="local-scheduler", daemon=True)
        self.runs: list[tuple[str, int]] = []

    def trigger(self, name: str) -> int:
        request = urllib.request.Request(
            self.jobs_url,
            data=json.dumps({"job": name}).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-CloudScheduler": "true"},
        )
        try:
            with urllib.request.urlopen(request, timeout=600) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError:
            status = 503
        self.runs.append((name, status))
        return status

    def _run(self) -> None:
        jobs = load_registry()
        due = next_runs(jobs, datetime.now(UTC))
        while not self._stop.is_set():
            now = datetime.now(UTC)
            for name, when in list(due.items()):
                if when <= now:
                    status = self.trigger(name)
                    log.info("scheduled job ran", extra={"job": name, "status": status})
                    due[name] = next_runs({name: jobs[name]}, now)[name]
            self._stop.wait(timeout=min(max((min(due.values()) - now).total_seconds(), 0.1), 5.0))

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
