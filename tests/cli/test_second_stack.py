"""`make run PORT=… FIRESTORE_PORT=…`: a stack of its own, which commands find without flags."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from oie.devstack.emulator import free_port
from tests.cli.conftest import OIE, Newcomer

pytestmark = pytest.mark.firestore


def emulators_on(port: int) -> list[int]:
    """Processes (gcloud, its Java server) bound to serve the emulator on `port`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if f"127.0.0.1:{port}".encode() in text and b"firestore" in text:
            found.append(int(cmdline.parent.name))
    return found


def wait_for(predicate, timeout: float, what: str, process: subprocess.Popen[str]):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := predicate()) is not None:
            return value
        if process.poll() is not None:
            raise AssertionError(f"the stack exited before {what}:\n{process.stdout.read() if process.stdout else ''}")
        time.sleep(0.3)
    raise AssertionError(f"no {what} within {timeout:.0f} s")


def test_a_second_stack_runs_on_its_own_ports_and_data_and_commands_find_it(newcomer: Newcomer):
    port, firestore_port = free_port(), free_port()
    process = subprocess.Popen(
        [str(OIE), "dev", "run", "--port", str(port), "--firestore-port", str(firestore_port)],
        cwd=newcomer.home,
        env={**newcomer.env(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    state_file = newcomer.data / "run" / f"{port}.json"
    try:
        published = wait_for(
            lambda: json.loads(state_file.read_text()) if state_file.exists() else None, 120, "state file", process
        )
        data = newcomer.data / "stacks" / str(port)  # not the default port's data folder
        assert (published["pid"], published["firestore_port"], published["data_dir"]) == (
            process.pid,
            firestore_port,
            str(data),
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30) as index:
            assert index.status == 200

        status = newcomer.oie("campaigns", "status", "--tenant", "demo", "--json")
        assert status.code == 0, status.stderr
        # The demo's two campaigns: the reactive one and the seeded pipeline (devstack/demo_history.py).
        assert {row["campaign"] for row in json.loads(status.stdout)} == {"demo-outreach", "demo-pipeline"}
        message = wait_for(lambda: next((f.stem for f in (data / "outbox").glob("*.eml")), None), 30, "email", process)
        sent = newcomer.oie("webhooks", "send-demo-events", "--event", "open", "--message", message, "--json")
        assert sent.code == 0, sent.stderr
        assert [answer["status"] for answer in json.loads(sent.stdout)] == [200]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)  # the stack stops what it started
        process.wait(timeout=60)
        if process.stdout:
            process.stdout.close()
    assert not state_file.exists()
    assert emulators_on(firestore_port) == [], "the stack's Firestore emulator (Java) outlived it"
