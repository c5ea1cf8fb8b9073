"""The demo campaign on the running stack: sends in the outbox, signed events move a plan,
retries change nothing, and a one-click unsubscribe stops the next send."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import time
import urllib.request
from email import policy
from pathlib import Path

from tests.e2e.conftest import REPO


def cli(stack, data: Path, *args: str) -> str:
    port = next(line for line in stack.output if "Firestore emulator on" in line).split(":")[-1].split()[0]
    env = {
        **os.environ,
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{port}",
        "OIE_DUCKDB_PATH": str(data / "warehouse.duckdb"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "oie", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def demo_campaign_emails(data: Path) -> list[Path]:
    """The demo campaign's emails, oldest first (the seeded history's campaign sends its own)."""
    files = sorted((data / "outbox").glob("*.eml"), key=lambda p: p.stat().st_mtime)
    args = [email.message_from_bytes(f.read_bytes(), policy=policy.default)["X-OIE-Custom-Args"] for f in files]
    return [f for f, a in zip(files, args, strict=True) if '"campaign_id": "demo-outreach"' in str(a)]


def outbox(data: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + 90  # a loaded CI machine starts the stack slowly
    while time.monotonic() < deadline:
        files = demo_campaign_emails(data)
        if len(files) >= count:
            return files
        time.sleep(0.3)
    raise AssertionError(f"expected {count} emails in the outbox, found {len(files)}")


def status(stack, data: Path) -> list[tuple[str, str, int]]:
    out = cli(stack, data, "campaigns", "status", "--tenant", "demo", "--campaign", "demo-outreach")
    rows = [line.split() for line in out.splitlines()]
    return sorted((r[1], r[2], int(r[3])) for r in rows if len(r) == 4)


def test_the_demo_campaign_reacts_to_signed_events_and_unsubscribes(stack_factory, tmp_path):
    stack = stack_factory()
    data = tmp_path / "data"
    first = outbox(data, 4)  # one intro per demo lead
    messages = [email.message_from_bytes(f.read_bytes(), policy=policy.default) for f in first]
    assert all(m["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" for m in messages)
    assert all("/go?i=" in m.get_body(preferencelist=("plain",)).get_content() for m in messages)
    assert status(stack, data) == [("active", "intro", 4)]

    clicked, leaving = first[0].stem, messages[1]
    for _ in range(2):  # the second delivery of the same events must change nothing
        cli(
            stack,
            data,
            "webhooks",
            "send-demo-events",
            "--base",
            stack.base,
            "--event",
            "open",
            "--event",
            "click",
            "--message",
            clicked,
        )
    outbox(data, 5)  # the click moved that contact to the hot follow-up, sent once
    time.sleep(1.5)
    assert len(demo_campaign_emails(data)) == 5

    url = str(leaving["List-Unsubscribe"]).strip("<>")
    with urllib.request.urlopen(urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST")) as done:
        assert done.status == 200
    time.sleep(1.5)
    assert status(stack, data) == [
        ("active", "intro", 2),
        ("completed", "followup_hot", 1),
        ("unsubscribed", "intro", 1),
    ]
    assert stack.stop() == 0
