"""The local stack as a newcomer runs it: `oie dev run` in a process of its own."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from oie import wiring
from oie.adapters.ip_companies import FileCompanyLookup
from oie.devstack.demo import DemoSeed, seed_demo
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.devstack.gateway import build_gateway
from tests.conftest import make_settings

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    process: subprocess.Popen[str]
    base: str
    output: list[str] = field(default_factory=list)

    def url(self, label: str) -> str:
        line = next(line for line in self.output if line.strip().startswith(label))
        return line.split(":", 1)[1].strip()

    def stop(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        if self.process.stdout:
            self.output.extend(self.process.stdout.read().splitlines())
            self.process.stdout.close()
        return code


def start_stack(data_dir: Path, port: int | None = None) -> Stack:
    port = port or free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("FIRESTORE_EMULATOR_HOST", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oie",
            "dev",
            "run",
            "--port",
            str(port),
            "--data",
            str(data_dir),
            "--firestore-port",
            str(free_port()),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack = Stack(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            raise AssertionError("the stack exited early:\n" + "".join(stack.output))
        stack.output.append(line.rstrip("\n"))
        if "Press Ctrl-C" in line:
            return stack
    process.kill()
    raise AssertionError("the stack did not come up:\n" + "\n".join(stack.output))


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def stack_factory(tmp_path: Path) -> Iterator[object]:
    started: list[Stack] = []

    def factory(port: int | None = None) -> Stack:
        stack = start_stack(tmp_path / "data", port)
        started.append(stack)
        return stack

    yield factory
    for stack in started:
        if stack.process.poll() is None or (stack.process.stdout and not stack.process.stdout.closed):
            stack.stop()
        if group_alive(stack.process.pid):
            os.killpg(stack.process.pid, signal.SIGKILL)


if sys.platform != "linux":  # process groups and /proc are what the checks rely on
    pytest.skip("the local-stack tests need Linux", allow_module_level=True)


def links_in(text: str) -> list[str]:
    return re.findall(r"/go\?i=([0-9A-Za-z]+)", text)


COMPANIES = REPO / "functions/oie/devstack/assets/ip_companies.csv"


@pytest.fixture
def live(
    firestore_emulator: FirestoreEmulator, tmp_path: Path, pixel_dist: Path
) -> Iterator[tuple[str, Any, DemoSeed]]:
    """The local stack in-process, on the real clock, serving the built pixel."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = wiring.Container(
        make_settings(tmp_path, default_landing_url=f"{base}/demo/", job_settle_seconds=0),
        companies=FileCompanyLookup(COMPANIES),
    )
    app.warehouse.migrate()
    wiring.use(app)
    seed = seed_demo(app, base)
    server = make_server("127.0.0.1", port, build_gateway(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base, app, seed
    finally:
        server.shutdown()
        server.server_close()
        app.close()
        wiring.use(None)
