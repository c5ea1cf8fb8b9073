"""functions-framework's own server (gunicorn, as deployed) in a process of its own, for the
benchmarks: a load generator in the server's process would share its interpreter lock."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from oie.devstack.emulator import free_port

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Server:
    """A running server: its port, and the CPU its processes (gunicorn's arbiter and worker) used."""

    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes so far (Linux /proc)."""
        total = 0
        for pid in [self.pid, *_children(self.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited between the listing and the read
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@contextmanager
def function_server(target: str, source: Path, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    """Serve `target` of `source` with `functions-framework` on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "functions_framework", "--target", target, "--source", str(source)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)]),
            "GUNICORN_LOG_LEVEL": "warning",
            **(env or {}),
        },
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, process)
        yield Server(port, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server on port {port} did not start in 60 s")
