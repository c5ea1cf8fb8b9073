"""The local stack as a newcomer runs it: `oie dev run` in a process of its own."""

from __future__ import annotations

import email
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from oie import wiring
from oie.adapters.ip_companies import FileCompanyLookup
from oie.devstack.demo import DemoSeed, seed_demo
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.devstack.gateway import build_gateway
from tests.conftest import make_settings, migrated_copy

REPO = Path(__file__).resolve().parents[2]
DEMO_CAMPAIGN = "demo-outreach"


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
            break
        stack.output.append(line.rstrip("\n"))
        if "Press Ctrl-C" in line:
            return stack
    what = "exited early" if process.poll() is not None else "did not come up"
    # Nothing of a failed start may outlive it: its processes, or its pipe (an unclosed file fails a later test).
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    process.stdout.close()
    raise AssertionError(f"the stack {what}:\n" + "\n".join(stack.output))


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_for_good(stack: Stack) -> None:
    """Ctrl-C the stack if it still runs; whatever happened, nothing it started (emulator, Gemini) outlives it."""
    try:
        if stack.process.poll() is None:
            stack.stop()
    finally:
        if group_alive(stack.process.pid):
            os.killpg(stack.process.pid, signal.SIGKILL)


# The pixel has started on the page in front (its queue stub replaced by the API).
READY = "typeof window.oie === 'function' && !window.oie.q"


def follow(page: Any, path: str) -> None:
    """Click the nav link to `path`, then wait for that page's pixel: READY alone is still true
    on the page being left, so a test could leave before the next page's pageview exists."""
    page.click(f"nav a[href='{path}']")
    page.wait_for_url(f"**{path}")
    page.wait_for_function(READY)


def wait_for(ok: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def demo_emails(data: Path) -> list[dict[str, Any]]:
    """The demo campaign's emails in the outbox: recipient, node, subject, when written."""
    found = []
    for path in (data / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        args = json.loads(str(message["X-OIE-Custom-Args"] or "{}"))
        if args.get("campaign_id") == DEMO_CAMPAIGN:
            found.append(
                {
                    "to": str(message["To"]),
                    "node": args["node_id"],
                    "subject": str(message["Subject"]),
                    "at": path.stat().st_mtime,
                    "id": path.stem,
                }
            )
    return sorted(found, key=lambda m: m["at"])


# The session's one demo stack (`demo_stack`) and the last test that uses it: it stops right after that
# test, not at the end of the session, so it does not idle through the rest of the suite.
_demo_stacks: list[Stack] = []
_last_demo_user: list[str] = []


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory: pytest.TempPathFactory, pixel_dist: Path) -> Iterator[tuple[Stack, Path]]:
    """One `oie dev run` for every test that needs only a running demo: its campaign planned, four intros sent.

    The tests that share it act on demo contacts of their own, or assert what holds in any order.
    """
    data = tmp_path_factory.mktemp("demo-stack") / "data"
    stack = start_stack(data)
    _demo_stacks.append(stack)
    try:
        wait_for(lambda: len(demo_emails(data)) >= 4, "the four demo intros", timeout=120)
        yield stack, data
    finally:
        stop_for_good(stack)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the demo stack's users one after another (no other stack starts while it runs), then stop it."""
    users = [item for item in items if "demo_stack" in getattr(item, "fixturenames", ())]
    if not users:
        return
    for item in users:  # under pytest-xdist (`--dist loadgroup`) they all run on one worker, with one stack
        item.add_marker(pytest.mark.xdist_group("demo_stack"))
    first = items.index(users[0])
    chosen = set(users)
    others = [item for item in items if item not in chosen]
    items[:] = [*others[:first], *users, *others[first:]]
    _last_demo_user[:] = [users[-1].nodeid]


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if _demo_stacks and item.nodeid in _last_demo_user:
        stop_for_good(_demo_stacks.pop())


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


@contextmanager
def demo_in_process(data: Path, duckdb_template: Path) -> Iterator[tuple[str, Any, DemoSeed]]:
    """The local stack in-process on a free port, on the real clock, its data under `data`: (base, app, seed)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = make_settings(data, default_landing_url=f"{base}/demo/", job_settle_seconds=0)
    migrated_copy(duckdb_template, settings.duckdb_path)
    app = wiring.Container(settings, companies=FileCompanyLookup(COMPANIES))
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


@pytest.fixture
def live(
    firestore_emulator: FirestoreEmulator, tmp_path: Path, pixel_dist: Path, duckdb_template: Path
) -> Iterator[tuple[str, Any, DemoSeed]]:
    """The local stack in-process, on the real clock, serving the built pixel; a fresh demo tenant per test."""
    with demo_in_process(tmp_path, duckdb_template) as served:
        yield served
