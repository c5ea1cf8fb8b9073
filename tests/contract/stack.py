"""The local stack for contract tests: `oie dev run` in a process of its own, its output drained.

Like tests/e2e/conftest.py starts it, but the output is read by a thread for the whole run
(Schemathesis makes hundreds of requests; an unread pipe would block the stack) and kept,
so a 5xx can be shown with the traceback the stack logged.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from oie.devstack.emulator import free_port
from oie.devstack.stack import stack_environment

REPO = Path(__file__).resolve().parents[2]

# Run with the stack's environment: what a real client of the demo tenant holds. An API key
# with every scope, the demo's lead ids, an Inbound Parse credential and a genuine
# unsubscribe token (for a message of the demo campaign in the outbox).
_CREDENTIALS = """
import json, sys
from pathlib import Path
from oie.outcomes.auth import create_key
from oie.wiring import container
app = container()
found = {"inbound": None, "unsubscribe": None}
found["key"] = create_key(
    app.api_keys, "demo", ["outcomes:read", "outcomes:write", "admin"], "schemathesis", app.clock.now()
)
found["leads"] = [lead["lead_id"] for lead in app.outcome_store.leads("demo", {}, 20) if lead.get("lead_id")]
try:
    from oie.webhooks.inbound_auth import new_credential
    credentials, stored = new_credential("demo")
    app.tenants.put(app.tenants.get("demo").model_copy(update={"inbound_parse_credential": stored}))
    found["inbound"] = [credentials.username, credentials.password]
except Exception as exc:
    print(f"no inbound credential: {exc!r}", file=sys.stderr)
try:
    from oie.suppressions.tokens import UnsubscribeRef, mint_ref
    message = sorted(Path(app.settings.outbox_dir).glob("*.eml"))[0].stem
    found["unsubscribe"] = mint_ref(app.derived_key("unsubscribe"), UnsubscribeRef(tenant_id="demo", message_id=message))
except Exception as exc:
    print(f"no unsubscribe token: {exc!r}", file=sys.stderr)
print(json.dumps(found))
"""


@dataclass(frozen=True)
class Credentials:
    api_key: str
    leads: list[str]
    inbound: tuple[str, str] | None
    unsubscribe_token: str | None


@dataclass
class RunningStack:
    process: subprocess.Popen[str]
    base: str
    data_dir: Path
    env: dict[str, str]
    output: deque[str] = field(default_factory=lambda: deque(maxlen=5000))
    _drain: threading.Thread | None = None

    def tail(self, lines: int = 80) -> str:
        return "\n".join(list(self.output)[-lines:])

    def stop(self, timeout: float = 60) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # what of its process group still runs (the emulator)
            os.killpg(self.process.pid, signal.SIGKILL)
        if self._drain is not None:
            self._drain.join(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def credentials(self) -> Credentials:
        """What a real client of the demo tenant holds (see _CREDENTIALS)."""
        done = subprocess.run(
            [sys.executable, "-c", _CREDENTIALS],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        found = json.loads(done.stdout.strip().splitlines()[-1])
        inbound = found["inbound"]
        return Credentials(
            api_key=str(found["key"]),
            leads=[str(lead) for lead in found["leads"]],
            inbound=(str(inbound[0]), str(inbound[1])) if inbound else None,
            unsubscribe_token=found["unsubscribe"],
        )


def start(data_dir: Path, timeout: float = 180, extra_env: dict[str, str] | None = None) -> RunningStack:
    """`oie dev run` on free ports with its own Firestore emulator; returns once it serves."""
    port, firestore_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "FIRESTORE_EMULATOR_HOST"}
    env.update({"PYTHONUNBUFFERED": "1", **(extra_env or {})})
    command = [sys.executable, "-m", "oie", "dev", "run", "--port", str(port), "--data", str(data_dir)]
    process = subprocess.Popen(
        [*command, "--firestore-port", str(firestore_port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    stack = RunningStack(
        process, f"http://127.0.0.1:{port}", data_dir, {**env, **stack_environment(port, data_dir, firestore_port)}
    )
    ready = threading.Event()

    def drain() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            stack.output.append(line.rstrip("\n"))
            if "Press Ctrl-C" in line:
                ready.set()

    stack._drain = threading.Thread(target=drain, daemon=True)
    stack._drain.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ready.is_set():
        if process.poll() is not None:
            raise AssertionError("the stack exited early:\n" + stack.tail())
        ready.wait(0.5)
    if not ready.is_set():
        stack.stop()
        raise AssertionError("the stack did not come up:\n" + stack.tail())
    return stack
