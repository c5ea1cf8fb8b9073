"""Running a registered job: its window from the last watermark, a job_runs row either way."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from oie.errors import NotFound
from oie.jobs.context import JobResult, Window
from oie.jobs.registry import load_registry
from oie.logs import get_logger
from oie.wiring import Container

log = get_logger(__name__)
Job = Callable[[Container, Window], JobResult]


def _sessionize(app: Container, window: Window) -> JobResult:
    from oie.jobs.sessionize import sessionize

    return sessionize(app.warehouse, window)


def _score(app: Container, window: Window) -> JobResult:
    from oie.jobs.score import score

    return score(app.warehouse, window)


def _sync_personalization(app: Container, window: Window) -> JobResult:
    from oie.jobs.personalization_sync import sync_personalization

    return sync_personalization(app.warehouse, app.profiles, app.outcome_store, window)


def _hot_lead_alerts(app: Container, window: Window) -> JobResult:
    return app.hot_lead_alerts.run(window)


def _retention(app: Container, window: Window) -> JobResult:
    return app.retention.run(window)


def _drain_click_spool(app: Container, window: Window) -> JobResult:
    from oie.jobs.click_spool import drain_click_spool

    return JobResult(rows_written=drain_click_spool(app.click_spool, app.warehouse)["rows"])


def _win_rates(app: Container, window: Window) -> JobResult:
    from oie.outcomes.jobs import win_rates_job

    return win_rates_job(app.warehouse, window)


def _outcome_nudges(app: Container, window: Window) -> JobResult:
    from oie.outcomes.jobs import nudges_job

    return nudges_job(app.tenants, app.outcomes_service, app.outcome_store, window)


def _message_metrics(app: Container, window: Window) -> JobResult:
    from oie.webhooks.metrics import message_metrics

    return message_metrics(app.warehouse, window)


def _campaign_requeue(app: Container, window: Window) -> JobResult:
    return JobResult(rows_written=app.campaign_service.requeue_overdue())


def _campaign_signals(app: Container, window: Window) -> JobResult:
    from oie.jobs.campaign_signals import campaign_signals

    return campaign_signals(app.warehouse, app.tasks, window)


def _campaign_experiments(app: Container, window: Window) -> JobResult:
    from oie.jobs.campaign_experiments import campaign_experiments

    return campaign_experiments(app.warehouse, app.campaign_service.plans, app.campaign_experiments, window)


def _crm_sync(app: Container, window: Window) -> JobResult:
    return app.crm_sync.run(window)  # type: ignore[no-any-return]


def _crm_reconcile(app: Container, window: Window) -> JobResult:
    from dataclasses import replace

    synced: JobResult = app.crm_sync.reconcile(window)
    # Then outcomes from the deal stages of the contacts just synced (oie.crm.readback).
    read: JobResult = app.crm_readback.run(window)
    details = {**synced.details, "readback": read.details}
    return replace(synced, rows_written=synced.rows_written + read.rows_written, details=details)


JOBS: dict[str, Job] = {
    "win_rates": _win_rates,
    "outcome_nudges": _outcome_nudges,
    "sessionize": _sessionize,
    "score": _score,
    "sync_personalization": _sync_personalization,
    "hot_lead_alerts": _hot_lead_alerts,
    "drain_click_spool": _drain_click_spool,
    "retention": _retention,
    "message_metrics": _message_metrics,
    "campaign_requeue": _campaign_requeue,
    "campaign_experiments": _campaign_experiments,
    "campaign_signals": _campaign_signals,
    "crm_sync": _crm_sync,
    "crm_reconcile": _crm_reconcile,
}


# Jobs that read what another job stamps: they go no further than its last successful run.
UPSTREAM = {
    "score": "sessionize",
    "sync_personalization": "score",
    "hot_lead_alerts": "score",
    "campaign_signals": "score",
    "crm_sync": "score",
    "crm_reconcile": "score",
}
# Jobs run right after another one's run is recorded.
FOLLOW_UPS = {"score": ("sync_personalization", "campaign_signals", "crm_sync")}


def run_job(name: str, app: Container) -> dict[str, Any]:
    """Run one job now; record the run in job_runs; return what it reported."""
    if name not in load_registry():
        raise NotFound(f"no job {name!r} in the registry", field="job")
    started = app.clock.now()
    (last,) = app.warehouse.query("last_watermark", {"job": name})
    if name in UPSTREAM:
        (upstream,) = app.warehouse.query("last_run_time", {"job": UPSTREAM[name]})
        window = Window.over_upstream(last["watermark"], started, upstream["last_started_at"])
    else:
        window = Window.over_events(last["watermark"], started, timedelta(seconds=app.settings.job_settle_seconds))
    run: dict[str, Any] = {
        "run_id": uuid.uuid4().hex,
        "job": name,
        "started_at": started,
        "watermark_from": last["watermark"],
    }
    try:
        result = JOBS[name](app, window)
    except Exception as exc:
        run.update(finished_at=app.clock.now(), status="failed", error=f"{type(exc).__name__}: {exc}"[:2000])
        app.warehouse.insert_rows("job_runs", [run], id_field="run_id")
        log.error("job failed", extra={"job": name, "error": run["error"]})
        raise
    run.update(
        finished_at=app.clock.now(),
        status="ok",
        rows_written=result.rows_written,
        rows_scanned=result.rows_scanned,
        watermark_to=result.watermark,
        details=result.details,
    )
    app.warehouse.insert_rows("job_runs", [run], id_field="run_id")
    report = {"rows_written": result.rows_written, "rows_scanned": result.rows_scanned, **result.details}
    for follow_up in FOLLOW_UPS.get(name, ()):
        report[follow_up] = run_job(follow_up, app)
    return report
