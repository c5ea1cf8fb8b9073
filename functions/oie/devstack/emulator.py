"""Starting and stopping the Google Cloud CLI's Firestore emulator, leaving no Java behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

INSTALL_HINT = {
    "gcloud": "the Google Cloud CLI (Debian: apt-get install google-cloud-cli)",
    "java": "a JDK, version 11 or later (Debian: apt-get install openjdk-17-jre-headless)",
    "emulator": "the Firestore emulator (Debian: apt-get install google-cloud-cli-firestore-emulator; "
    "or: gcloud components install cloud-firestore-emulator)",
}


class MissingTool(RuntimeError):
    """A program the local stack needs is not installed; the message says what to install."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_tools() -> None:
    """Raise MissingTool naming the package to install when gcloud, Java or the emulator is absent."""
    for tool in ("gcloud", "java"):
        if shutil.which(tool) is None:
            raise MissingTool(f"{tool} is not installed: install {INSTALL_HINT[tool]}")
    sdk = Path(os.path.realpath(shutil.which("gcloud") or "")).parent.parent
    candidates = [
        sdk / "platform" / "cloud-firestore-emulator",
        Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator"),
    ]
    if not any(c.is_dir() for c in candidates):
        raise MissingTool(f"the Firestore emulator is not installed: install {INSTALL_HINT['emulator']}")


class FirestoreEmulator:
    """One emulator process group on 127.0.0.1; optionally persisted under `data_dir`."""

    def __init__(
        self, port: int, data_dir: Path | None = None, log_path: Path | None = None, heap_mb: int | None = None
    ) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}"
        self.data_dir = data_dir
        self.log_path = log_path
        # The emulator keeps every document in Java's heap; the JVM's default maximum (a quarter
        # of RAM) is full near 3M documents, and then its collector thrashes and calls time out.
        self.heap_mb = heap_mb
        self._process: subprocess.Popen[bytes] | None = None

    def _latest_export(self) -> Path | None:
        if self.data_dir is None:
            return None
        found = sorted(self.data_dir.glob("firestore/*/*.overall_export_metadata"))
        return found[-1] if found else None

    def start(self, timeout: float = 90.0) -> None:
        check_tools()
        command = [
            "gcloud",
            "emulators",
            "firestore",
            "start",
            f"--host-port={self.host}",
            "--quiet",
        ]
        if (export := self._latest_export()) is not None:
            command.append(f"--import-data={export}")
        env = dict(os.environ)
        if self.heap_mb is not None:
            # gcloud's launcher takes no JVM flags; every JVM reads JAVA_TOOL_OPTIONS.
            env["JAVA_TOOL_OPTIONS"] = f"{env.get('JAVA_TOOL_OPTIONS', '')} -Xmx{self.heap_mb}m".strip()
        # A session of its own, so stop() can end gcloud and the Java child together.
        if self.log_path:
            with open(self.log_path, "ab") as log:  # the child keeps its own copy of the handle
                self._process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
                )
        else:
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"the Firestore emulator exited early (code {self._process.returncode})"
                    + (f"; see {self.log_path}" if self.log_path else "")
                )
            try:
                with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the Firestore emulator did not start within {timeout:.0f} s")

    def export(self, project: str) -> Path | None:
        """Write the project's data under data_dir/firestore; keep only the newest two exports."""
        if self.data_dir is None:
            return None
        target = self.data_dir / "firestore"
        target.mkdir(parents=True, exist_ok=True)
        body = json.dumps(
            {
                "database": f"projects/{project}/databases/(default)",
                "export_directory": str(target.resolve()),
            }
        )
        request = urllib.request.Request(
            f"http://{self.host}/emulator/v1/projects/{project}:export",
            data=body.encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60):
            pass
        exports = sorted(p for p in target.iterdir() if p.is_dir())
        for old in exports[:-2]:
            shutil.rmtree(old, ignore_errors=True)
        return exports[-1] if exports else None

    @property
    def pid(self) -> int | None:
        """The emulator's process group (gcloud leads it, Java runs in it); None when stopped."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def server_pid(self) -> int:
        """The pid of the Java server itself: gcloud runs it through a shell, two processes down.

        Pausing the server (SIGSTOP) is how the outage tests make Firestore hang; stopping
        gcloud or the shell would leave the server answering.
        """
        if self._process is None:
            raise RuntimeError("the Firestore emulator is not running")
        children: dict[int, list[int]] = {}
        names: dict[int, str] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:
                continue  # a process that ended while we looked
            # "pid (comm) state ppid ...": the name may hold spaces or parentheses.
            head, _, tail = text.rpartition(")")
            number, name = head.split(" (", 1)
            names[int(number)] = name
            children.setdefault(int(tail.split()[1]), []).append(int(number))
        pending = list(children.get(self._process.pid, []))
        while pending:
            pid = pending.pop()
            if names.get(pid) == "java":
                return pid
            pending.extend(children.get(pid, []))
        raise RuntimeError("the Firestore emulator's Java process was not found")

    def reset(self, project: str) -> None:
        """Delete every document of a project."""
        request = urllib.request.Request(
            f"http://{self.host}/emulator/v1/projects/{project}/databases/(default)/documents",
            method="DELETE",
        )
        with urllib.request.urlopen(request, timeout=30):
            pass

    def stop(self) -> None:
        """End the whole process group: TERM, then KILL if it lingers."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGCONT)  # a paused server (outage tests) cannot handle TERM
        except ProcessLookupError:
            return
        for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(timeout=wait)
                # gcloud may exit before its Java child; make sure the group is gone.
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            except subprocess.TimeoutExpired:
                continue
