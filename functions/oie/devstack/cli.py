"""`oie dev …`: the local stack (`make run`), the stacks that run, and the deploy requirements."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import click

from oie.cli.output import OieGroup, emit, json_option, unavailable


@click.group(cls=OieGroup)
def dev() -> None:
    """The local stack."""


@dev.command("run")
@click.option("--port", default=8080, show_default=True, help="The gateway's port (every function behind it).")
@click.option(
    "--data",
    "data_dir",
    default=None,
    type=click.Path(file_okay=False, path_type=Path),
    help="Data folder; default OIE_DATA_DIR (the checkout's .oie-data) for port 8080, "
    "OIE_DATA_DIR/stacks/PORT for any other port.",
)
@click.option(
    "--firestore-port",
    type=int,
    default=None,
    help="The Firestore emulator's port; default 8681, or a free one when 8681 is taken.",
)
def dev_run(port: int, data_dir: Path | None, firestore_port: int | None) -> None:
    """Start the whole engine locally; Ctrl-C (or `oie dev stop`) stops everything it started."""
    from oie.devstack.stack import run_stack

    sys.exit(run_stack(port=port, data_dir=data_dir, firestore_port=firestore_port))


def _stacks() -> list[dict[str, object]]:
    from oie.devstack import state
    from oie.settings import get_settings

    return [{**s.model_dump(mode="json"), "base_url": s.base_url} for s in state.running(get_settings().data_dir)]


@dev.command("status")
@json_option
def dev_status() -> None:
    """The local stacks that run now: ports, pid, data folder (what every command connects to)."""
    stacks = _stacks()
    emit(
        stacks,
        columns=("port", "firestore_port", "pid", "started_at", "data_dir"),
        summary=None if stacks else "no local stack runs: start one with `make run`",
    )


@dev.command("stop")
@click.option("--port", type=int, default=None, help="The stack's gateway port; default the one commands use.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for it to stop.")
@json_option
def dev_stop(port: int | None, timeout: float) -> None:
    """Stop a running local stack (as Ctrl-C would: its Firestore data is saved)."""
    from oie.cli.context import PORT_KEY
    from oie.devstack import state
    from oie.settings import get_settings

    port = port if port is not None else click.get_current_context().meta.get(PORT_KEY)
    chosen = state.pick(state.running(get_settings().data_dir), port)
    if chosen is None:
        raise unavailable("no local stack runs" + (f" on port {port}" if port else ""))
    os.kill(chosen.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while state.pid_alive(chosen.pid):
        if time.monotonic() > deadline:
            raise click.ClickException(f"the stack (pid {chosen.pid}) did not stop within {timeout:g} s")
        time.sleep(0.2)
    emit(
        {"port": chosen.port, "pid": chosen.pid, "stopped": True},
        columns=(),
        summary=f"stopped the stack on port {chosen.port}",
    )


@dev.command("requirements")
@json_option
def dev_requirements() -> None:
    """Write functions/requirements.txt from pyproject.toml."""
    from oie.devstack.requirements import REPO, render_requirements

    target = REPO / "functions" / "requirements.txt"
    target.write_text(render_requirements())
    emit({"written": str(target)}, columns=(), summary=f"wrote {target}")
