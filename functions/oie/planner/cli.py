"""`oie planner …`: plan a campaign's contacts with the language model, review the plans, set the tenant's config."""

from __future__ import annotations

import getpass
import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from pydantic import ValidationError

from oie.cli.output import CommandError, OieGroup, emit, fail, json_option, note
from oie.errors import OieError

PATH = click.Path(exists=True, dir_okay=False, path_type=Path)


def _connect() -> Any:
    from oie.cli.context import app

    return app()


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _problems(exc: OieError) -> None:
    for field, message in getattr(exc, "problems", None) or []:
        note(f"  {field}: {message}")


@click.group("planner", cls=OieGroup)
def planner() -> None:
    """Per-contact plans and copy written by the language model (Gemini)."""


@planner.command("start")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--campaign", "campaign_id", required=True, help="A campaign imported with `oie campaign create`.")
@click.option("--template", "template_path", type=PATH, required=True, help="The plan the model starts from.")
@click.option("--sender", "sender_ids", multiple=True, help="Sender identity id (repeatable); default all.")
@json_option
def start(tenant_id: str, campaign_id: str, template_path: Path, sender_ids: tuple[str, ...]) -> None:
    """Queue one planning task per lead of the campaign; returns once queued (re-running adds nothing)."""
    from oie.campaigns.plan import parse_plan

    began = time.monotonic()
    try:
        template = parse_plan(template_path.read_bytes())
        tasks = _connect().planning_tasks
        with click.progressbar(label="queueing planning tasks", file=sys.stderr, length=0) as bar:
            report = tasks.start(tenant_id, campaign_id, template, sender_ids=sender_ids, progress=bar.update)
    except OieError as exc:
        _problems(exc)
        raise
    seconds = time.monotonic() - began
    total = report.enqueued + report.already_enqueued
    emit(
        {**report.model_dump(), "seconds": round(seconds, 2), "tasks_per_s": round(total / max(seconds, 1e-9), 1)},
        columns=(),
        summary=f"campaign {campaign_id}: {report.enqueued} planning tasks queued, "
        f"{report.already_enqueued} queued before; template {report.template_version[:12]} "
        f"({seconds:.1f} s). The queue paces the planning; see `oie planner reviews list` or `oie campaigns status`.",
    )


@planner.group("reviews", cls=OieGroup)
def reviews() -> None:
    """Plans waiting for a person (the tenant's `review_ai_plans` setting)."""


@reviews.command("list")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--limit", default=50, show_default=True, help="At most this many (1-200), newest first.")
@json_option
def list_reviews(tenant_id: str, limit: int) -> None:
    """The tenant's pending plans, newest first."""
    pending = _connect().plan_reviews.pending(tenant_id, limit)
    rows = [
        {
            "contact_campaign_id": r.contact_campaign_id,
            "email": r.contact.email,
            "created_at": r.created_at,
            "model": r.record.get("model", ""),
            "first_subject": r.messages[0].subject if r.messages else "",
        }
        for r in pending
    ]
    emit(rows, summary=f"{len(rows)} plan(s) waiting for review" if rows else "no plans waiting for review")


@reviews.command("show")
@click.option("--tenant", "tenant_id", required=True)
@click.argument("contact_campaign_id")
@json_option
def show(tenant_id: str, contact_campaign_id: str) -> None:
    """One review, always as JSON (`--json` accepted): the plan to edit for `approve --plan`, its copy, its record."""
    try:
        review = _connect().plan_reviews.get(tenant_id, contact_campaign_id)
    except OieError as exc:
        fail(exc)
    click.echo(json.dumps(review.model_dump(mode="json", by_alias=True), indent=2, ensure_ascii=False))


@reviews.command("approve")
@click.option("--tenant", "tenant_id", required=True)
@click.argument("contact_campaign_id")
@click.option("--plan", "plan_path", type=PATH, default=None, help="An edited plan to start instead (validated).")
@json_option
def approve(tenant_id: str, contact_campaign_id: str, plan_path: Path | None) -> None:
    """Approve a plan (as planned, or as edited) and start the contact; approving again changes nothing."""
    try:
        edited = json.loads(plan_path.read_bytes()) if plan_path else None
    except ValueError as exc:
        raise CommandError(f"the plan is not JSON: {exc}", code="invalid_input", field="plan") from None
    if edited is not None and not isinstance(edited, dict):
        raise CommandError("the plan must be a JSON object", code="invalid_input", field="plan")
    try:
        result = _connect().plan_reviews.approve(tenant_id, contact_campaign_id, _actor(), edited)
    except OieError as exc:
        _problems(exc)
        raise
    state = "approved" + (" with edits" if result.review.edited else "") + ("" if result.changed else " (already)")
    emit(
        {"contact_campaign_id": contact_campaign_id, "status": result.review.status, "started": result.started},
        summary=f"{contact_campaign_id}: {state}; contact {'started' if result.started else 'was already running'}",
    )


@reviews.command("reject")
@click.option("--tenant", "tenant_id", required=True)
@click.argument("contact_campaign_id")
@click.option("--reason", required=True, help="Why; kept with the review.")
@json_option
def reject(tenant_id: str, contact_campaign_id: str, reason: str) -> None:
    """Reject a plan: the contact is not started; who and why are kept."""
    result = _connect().plan_reviews.reject(tenant_id, contact_campaign_id, _actor(), reason)
    emit(
        {"contact_campaign_id": contact_campaign_id, "status": result.review.status, "reason": result.review.reason},
        summary=f"{contact_campaign_id}: rejected" + ("" if result.changed else " (already)"),
    )


@planner.group("config", cls=OieGroup)
def config() -> None:
    """The tenant's planner config: offer, brief, banned phrases, review, budget, concurrency."""


@config.command("show")
@click.option("--tenant", "tenant_id", required=True)
@json_option
def config_show(tenant_id: str) -> None:
    """The tenant's planner config (the defaults when it never set one)."""
    emit(_connect().planner_configs.get(tenant_id).model_dump(mode="json"))


def _value(text: str) -> Any:
    # JSON where it parses (true, 4000, ["a", "b"]), else the text itself.
    try:
        return json.loads(text)
    except ValueError:
        return text


@config.command("set")
@click.option("--tenant", "tenant_id", required=True)
@click.argument("assignments", nargs=-1, required=True, metavar="FIELD=VALUE...")
@json_option
def config_set(tenant_id: str, assignments: tuple[str, ...]) -> None:
    """Change fields, e.g. `review_ai_plans=true daily_token_budget=500000 banned_phrases='["guarantee"]'`."""
    from oie.planner.config import PlannerConfig

    store = _connect().planner_configs
    changes: dict[str, Any] = {}
    for assignment in assignments:
        field, sep, text = assignment.partition("=")
        if not sep or field not in PlannerConfig.model_fields:
            known = ", ".join(PlannerConfig.model_fields)
            raise CommandError(f"expected FIELD=VALUE with FIELD one of {known}", code="invalid_input", field=field)
        # Text fields take the text as it is; the others read it as JSON.
        changes[field] = text if PlannerConfig.model_fields[field].annotation is str else _value(text)
    try:
        updated = PlannerConfig.model_validate({**store.get(tenant_id).model_dump(), **changes})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise CommandError(error["msg"], code="invalid_input", field=str(error["loc"][0])) from None
    store.put(tenant_id, updated)
    emit(updated.model_dump(mode="json"), summary=f"planner config of {tenant_id}: {', '.join(changes)} set")
