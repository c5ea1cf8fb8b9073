"""Starting a campaign for its imported leads (`oie campaigns start`): contacts a second and peak
memory, at 10,000 and 100,000 contacts, next to the one-contact-at-a-time path in the same run.

Each start runs in a fresh interpreter (tests/bench/child.py) on the same emulator, so its
peak RSS is its own; the floor is that interpreter with the container built and nothing
started. Tasks go to a counting queue: the stand-in dispatcher would keep every task in memory.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.starting import StartReport
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.links.spool import LeadSpool
from oie.ports import Task
from tests.bench import child
from tests.factories import create_acme
from tests.unit.campaigns.factories import make_plan

SIZES = {"start-10k": 10_000, "start-100k": 100_000}
ONE_AT_A_TIME = ("one-at-a-time", 500)
SENDERS = 4


class _CountingQueue:
    """Cloud Tasks' name de-dup without keeping the tasks: only their names' count."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def enqueue(self, task: Task) -> bool:
        before = len(self.names)
        self.names.add(task.name or "")
        return len(self.names) > before


def lead_lines(count: int, prefix: str) -> Iterator[str]:
    """A lead CSV's lines, generated (no file, nothing held)."""
    yield "email,first_name,last_name,company,title,industry\n"
    for n in range(count):
        yield f"{prefix}{n}@lead{n % 997}.example,First{n},Last{n},Company {n % 5000},VP Sales,software\n"


def cpu_seconds(pid: int) -> float:
    """A process's user + system CPU so far (the emulator's, from the child that drives it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_child(
    project: str, data_dir: Path, campaign: str, emulator_pid: int, one_at_a_time: bool = False
) -> dict[str, Any]:
    """In the child: start one campaign and time it, with its own CPU and the emulator's."""
    queue = _CountingQueue()
    app = child.container(project, data_dir, tasks=queue)
    service = app.campaign_service
    planner = TemplatePlanner(make_plan())
    wall, cpu, emulator = time.perf_counter(), time.process_time(), cpu_seconds(emulator_pid)
    if one_at_a_time:
        senders, report = app.campaign_senders.all("acme"), StartReport()
        started = sum(
            service.start_contact("acme", campaign, c, planner.plan_for("acme", campaign, c), senders, report)
            for c in service.contacts.contacts("acme", campaign)
        )
    else:
        started = service.start_campaign("acme", campaign, planner).started
    wall, cpu, emulator = time.perf_counter() - wall, time.process_time() - cpu, cpu_seconds(emulator_pid) - emulator
    rerun = time.perf_counter()
    again = service.start_campaign("acme", campaign, planner)
    app.close()
    return {
        "started": started,
        "seconds": round(wall, 2),
        "contacts_per_s": round(started / wall, 1),
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_contact": round(cpu / started * 1000, 3),
        "emulator_cpu_ms_per_contact": round(emulator / started * 1000, 3),
        "tasks": len(queue.names),
        "rerun_s": round(time.perf_counter() - rerun, 2),
        "rerun_started": again.started,
    }


def floor_child(project: str, data_dir: Path) -> dict[str, Any]:
    """In the child: the container and the start path's modules, nothing started."""
    app = child.container(project, data_dir, tasks=_CountingQueue())
    app.campaign_service.states.get("acme", "none")
    app.close()
    return {}


def _seed(project: str, data_dir: Path) -> None:
    app = child.container(project, data_dir)
    app.warehouse.migrate()
    create_acme(app.tenants)
    for n in range(SENDERS):
        app.campaign_senders.put(
            "acme", SenderIdentity(sender_id=f"sdr{n}", from_email=f"sdr{n}@acme.com", verification="verified")
        )
    for name, count in (*SIZES.items(), ONE_AT_A_TIME):
        spool = LeadSpool.read(lead_lines(count, name))
        app.importer.run("acme", name, "https://www.acme.com/demo", spool, "https://links.acme.com")
        spool.close()
    app.close()


def run() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        emulator = FirestoreEmulator(free_port())
        emulator.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        project, data_dir = "bench-start", Path(tmp)
        try:
            _seed(project, data_dir)
            floor = child.measure(__name__, "floor_child", project, data_dir)
            name, _ = ONE_AT_A_TIME
            pid = emulator.server_pid
            results: dict[str, Any] = {
                name: child.measure(
                    __name__, "start_child", project, data_dir, campaign=name, emulator_pid=pid, one_at_a_time=True
                )
            }
            for name in SIZES:
                results[name] = child.measure(
                    __name__, "start_child", project, data_dir, campaign=name, emulator_pid=pid
                )
        finally:
            emulator.stop()
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
    anchor = results[ONE_AT_A_TIME[0]]["contacts_per_s"]
    print(f"floor (container, nothing started): peak RSS {floor['peak_rss_mb']} MB")
    for name, figures in results.items():
        print(
            f"{name:14s} {figures['started']:>7,} contacts in {figures['seconds']} s = {figures['contacts_per_s']:,} /s "
            f"({figures['contacts_per_s'] / anchor:.1f}x one at a time), CPU {figures['cpu_s']} s = "
            f"{figures['cpu_ms_per_contact']} ms a contact (emulator {figures['emulator_cpu_ms_per_contact']} ms), "
            f"peak RSS {figures['peak_rss_mb']} MB; re-run {figures['rerun_s']} s, started {figures['rerun_started']}"
        )
    return {"floor_rss_mb": floor["peak_rss_mb"], **results}
