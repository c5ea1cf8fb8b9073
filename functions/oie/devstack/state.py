"""Where running local stacks say which ports they use, so `oie` commands find them by themselves.

Each `oie dev run` writes `<data dir>/run/<gateway port>.json` once it serves and removes it
when it stops. A file whose process is gone (a stack that was killed) is stale: readers
ignore it and the next stack cleans it up, with the emulator that stack left behind.
`stack_environment` is the settings a stack runs with, and a command adopts them to talk to it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from datetime import datetime
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

DEFAULT_PORT = 8080
DEFAULT_FIRESTORE_PORT = 8681
PROJECT = "oie-local"  # the Firestore project every local stack uses


class StackState(BaseModel):
    """One running local stack: its process, its ports and its data."""

    model_config = ConfigDict(frozen=True)

    pid: int
    port: int
    firestore_port: int
    # The Firestore emulator's process group, so a killed stack's emulator can be found.
    firestore_pid: int | None = None
    data_dir: Path
    started_at: datetime

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def firestore_host(self) -> str:
        return f"127.0.0.1:{self.firestore_port}"


def stack_environment(port: int, data_dir: Path, firestore_port: int) -> dict[str, str]:
    """The environment every part of the local stack reads its settings from."""
    base = f"http://127.0.0.1:{port}"
    return {
        "OIE_ENV": "local",
        "OIE_GCP_PROJECT": PROJECT,
        "OIE_DATA_DIR": str(data_dir),
        "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{firestore_port}",
        "OIE_WAREHOUSE": "duckdb",
        "OIE_DUCKDB_PATH": str(data_dir / "warehouse.duckdb"),
        "OIE_TASKS": "local",
        "OIE_MAILER": "outbox",
        "OIE_OUTBOX_DIR": str(data_dir / "outbox"),
        "OIE_FUNCTIONS_BASE_URL": base,
        "OIE_GO_BASE_URL": base,
        "OIE_DEFAULT_LANDING_URL": f"{base}/demo/",
        "OIE_TRUSTED_PROXY_HOPS": "0",
        # One process writes and reads the local warehouse: events are readable at once.
        "OIE_JOB_SETTLE_SECONDS": "2",
        "OIE_IP_COMPANY_FILE": str(resources.files("oie.devstack").joinpath("assets", "ip_companies.csv")),
    }


def stack_data_dir(root: Path, port: int) -> Path:
    """A stack's own data: `root` for the default port, `root/stacks/<port>` for any other."""
    return root if port == DEFAULT_PORT else root / "stacks" / str(port)


def _registry(root: Path) -> Path:
    return root / "run"


def pid_alive(pid: int) -> bool:
    """Whether a process runs (a zombie, ended but not yet reaped, does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def write(root: Path, state: StackState) -> Path:
    """Publish a stack's state (atomically: a reader never sees half a file)."""
    folder = _registry(root)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{state.port}.json"
    partial = path.with_suffix(f".{state.pid}.tmp")
    partial.write_text(state.model_dump_json(indent=2) + "\n")
    partial.replace(path)
    return path


def remove(root: Path, state: StackState) -> None:
    """Withdraw a stack's state, unless another stack has taken its port since."""
    path = _registry(root) / f"{state.port}.json"
    current = _read(path)
    if current is not None and current.pid == state.pid:
        path.unlink(missing_ok=True)


def _read(path: Path) -> StackState | None:
    try:
        return StackState.model_validate_json(path.read_text())
    except (OSError, ValidationError):
        return None


def _all(root: Path) -> list[tuple[Path, StackState]]:
    folder = _registry(root)
    found = [(path, _read(path)) for path in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    return [(path, state) for path, state in found if state is not None]


def running(root: Path) -> list[StackState]:
    """The stacks that run now, oldest first."""
    return sorted((s for _, s in _all(root) if pid_alive(s.pid)), key=lambda s: s.started_at)


def pick(stacks: list[StackState], port: int | None = None) -> StackState | None:
    """The stack a command talks to: the one on `port` if given; else the default port's; else the newest."""
    if port is not None:
        return next((s for s in stacks if s.port == port), None)
    default = next((s for s in stacks if s.port == DEFAULT_PORT), None)
    return default or (stacks[-1] if stacks else None)


def clean_stale(root: Path) -> list[StackState]:
    """Remove the files of stacks that are gone, ending the emulators they left running."""
    cleaned = []
    for path, state in _all(root):
        if pid_alive(state.pid):
            continue
        if state.firestore_pid is not None and _is_emulator(state.firestore_pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(state.firestore_pid, signal.SIGKILL)
        path.unlink(missing_ok=True)
        cleaned.append(state)
    return cleaned


def _is_emulator(group: int) -> bool:
    """Whether process group `group` still holds a Firestore emulator (gcloud, or the Java
    server it leaves when gcloud ends first), and not processes that reused the id."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and b"firestore" in (stat.parent / "cmdline").read_bytes():
                return True
        except (OSError, IndexError, ValueError):
            continue  # a process that ended while we looked
    return False
