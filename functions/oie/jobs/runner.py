"""Running a registered job by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oie.errors import NotFound
from oie.jobs.registry import load_registry
from oie.wiring import Container


def _drain_click_spool(app: Container) -> dict[str, Any]:
    from oie.jobs.click_spool import drain_click_spool

    return drain_click_spool(app.click_spool, app.warehouse)


JOBS: dict[str, Callable[[Container], dict[str, Any]]] = {
    "drain_click_spool": _drain_click_spool,
}


def run_job(name: str, app: Container) -> dict[str, Any]:
    """Run one job now and return what it reports (rows touched, …)."""
    if name not in load_registry():
        raise NotFound(f"no job {name!r} in the registry", field="job")
    return JOBS[name](app)
