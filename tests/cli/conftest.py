"""Running `oie` as a newcomer does: the console script, from a folder of their own, no flags."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from oie.devstack.emulator import free_port

if TYPE_CHECKING:
    from oie.devstack.state import StackState

REPO = Path(__file__).resolve().parents[2]
OIE = REPO / ".venv" / "bin" / "oie"


@dataclass
class Answer:
    code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class Newcomer:
    """A shell in `home` (not the repository) whose `oie` keeps its data in `data`."""

    home: Path
    data: Path

    def env(self) -> dict[str, str]:
        # Nothing that points at a stack: the command must find it (or say it is missing) itself.
        env = {k: v for k, v in os.environ.items() if k != "FIRESTORE_EMULATOR_HOST" and not k.startswith("OIE_")}
        return {**env, "OIE_DATA_DIR": str(self.data)}

    def oie(self, *args: str, timeout: float = 60) -> Answer:
        started = time.monotonic()
        done = subprocess.run(
            [str(OIE), *args], cwd=self.home, env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        return Answer(done.returncode, done.stdout, done.stderr, time.monotonic() - started)

    def publish_stack(self, firestore_port: int, *, port: int | None = None, pid: int | None = None) -> StackState:
        """A state file as `oie dev run` writes it (for this test process, which is alive)."""
        from oie.devstack import state
        from oie.devstack.state import StackState

        port = port or free_port()
        published = StackState(
            pid=pid or os.getpid(),
            port=port,
            firestore_port=firestore_port,
            data_dir=state.stack_data_dir(self.data, port),
            started_at=datetime.now(UTC),
        )
        state.write(self.data, published)
        return published


@pytest.fixture
def newcomer(tmp_path: Path) -> Newcomer:
    home = tmp_path / "elsewhere"
    home.mkdir()
    return Newcomer(home, tmp_path / "oie-data")


def files_in(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}
