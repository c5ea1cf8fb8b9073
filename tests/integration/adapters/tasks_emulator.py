"""The Cloud Tasks gRPC emulator (gcloud-tasks-emulator, its own venv) as a subprocess on a free port.

`bash tests/tasks_emulator/ensure.sh` installs it in .venv-tasks-emulator (it pins an old
protobuf); `running(log_dir)` starts it, yields `127.0.0.1:port` and stops it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oie.devstack.emulator import free_port

REPO = Path(__file__).resolve().parents[3]
EMULATOR = REPO / ".venv-tasks-emulator" / "bin" / "gcloud-tasks-emulator"


@contextmanager
def running(log_dir: Path) -> Iterator[str]:
    if not EMULATOR.exists():
        subprocess.run(["bash", str(REPO / "tests" / "tasks_emulator" / "ensure.sh")], check=True)
    port = free_port()
    with (log_dir / "emulator.log").open("wb") as log:
        process = subprocess.Popen(
            [str(EMULATOR), "start", "-p", str(port), "-t", str(free_port()), "-q"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the tasks emulator did not start (log: {log.name})") from None
                    time.sleep(0.1)
            yield f"127.0.0.1:{port}"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
