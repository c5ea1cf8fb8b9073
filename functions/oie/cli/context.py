"""The container a command works with: the configured backends, or the running local stack's.

Locally (`OIE_ENV=local`, the default) a command talks to the stack `make run` started: it
reads the stack's state file (`<data dir>/run/<port>.json`, see oie.devstack.state) for the
ports and data folder, and checks the Firestore emulator answers before anything is done,
so a stopped stack costs one line and exit code 69 within seconds, never a hang.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import click

from oie import wiring
from oie.cli.output import note, unavailable
from oie.devstack import state
from oie.devstack.state import StackState, stack_environment
from oie.settings import Settings, get_settings

PORT_KEY = "oie.port"
# Long enough for a busy local emulator to answer its root page (milliseconds when well).
PROBE_SECONDS = 1.5


def app(*, firestore: bool = True) -> wiring.Container:
    """The process's container; locally, attached to the running stack (which must answer if `firestore`)."""
    current = wiring.container()
    if current.settings.env != "local" or "firestore" in vars(current):
        return current  # configured backends (tests, production), or already attached
    chosen = _choose_stack(current.settings)
    if chosen is not None:
        # Talk to the chosen stack consistently: its Firestore, its warehouse, its URLs.
        os.environ.update(stack_environment(chosen.port, chosen.data_dir, chosen.firestore_port))
        get_settings.cache_clear()
        wiring.use(None)
        current = wiring.container()
    if firestore:
        _check_firestore(chosen)
    return current


def _port_option() -> int | None:
    ctx = click.get_current_context(silent=True)
    port = ctx.meta.get(PORT_KEY) if ctx is not None else None
    return int(port) if port is not None else None


def _choose_stack(settings: Settings) -> StackState | None:
    stacks = state.running(settings.data_dir)
    port = _port_option()
    if port is not None:
        chosen = state.pick(stacks, port)
        if chosen is None:
            raise unavailable(f"no local stack runs on port {port}: start one with `make run PORT={port}`")
        return chosen
    explicit = os.environ.get("FIRESTORE_EMULATOR_HOST")
    if explicit:
        # An emulator named explicitly: the stack it belongs to, if any (for its warehouse).
        return next((s for s in stacks if s.firestore_host == explicit), None)
    chosen = state.pick(stacks)
    if chosen is not None and len(stacks) > 1:
        ports = ", ".join(str(s.port) for s in stacks)
        note(f"local stacks run on ports {ports}; using {chosen.port} (choose with `oie --port N …`)")
    return chosen


def _check_firestore(chosen: StackState | None) -> None:
    host = chosen.firestore_host if chosen is not None else os.environ.get("FIRESTORE_EMULATOR_HOST")
    if host is None:
        raise unavailable("the local stack is not running: start it with `make run` (or `oie dev run`)")
    if not _answers(host):
        if chosen is not None:
            raise unavailable(
                f"the local stack on port {chosen.port} runs but its Firestore emulator ({host}) does not answer: "
                "restart it (`make run`)"
            )
        raise unavailable(
            f"no Firestore emulator answers on {host} (FIRESTORE_EMULATOR_HOST): start the local stack with `make run`"
        )


def _answers(host: str) -> bool:
    # No proxies: the emulator is on this machine, whatever http_proxy says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"http://{host}/", timeout=PROBE_SECONDS):
            return True
    except urllib.error.HTTPError:
        return True  # it answered HTTP: it is up
    except (OSError, ValueError):
        return False
