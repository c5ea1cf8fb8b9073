"""`oie campaigns …`: start a campaign for its imported leads, see where it is, pause / resume / stop it."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click
from pydantic import ValidationError

from oie.campaigns.control import Action, ControlRequest, ScopeKind
from oie.cli.output import CommandError, OieGroup, emit, fail, json_option, note
from oie.errors import OieError


@click.group("campaigns", cls=OieGroup)
def campaigns() -> None:
    """Reactive per-contact email campaigns."""


@campaigns.command("start")
@click.option("--tenant", "tenant_id", required=True)
@click.option(
    "--campaign", "campaign_id", required=True, help="The id of a campaign imported with `oie campaign create`."
)
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option(
    "--sender", "sender_ids", multiple=True, help="Sender identity id (repeatable); default all of the tenant's."
)
@json_option
def start(tenant_id: str, campaign_id: str, plan_path: Path, sender_ids: tuple[str, ...]) -> None:
    """Validate a plan and start it for every lead of the campaign (re-running starts only new leads)."""
    from oie.campaigns.planner import TemplatePlanner
    from oie.cli.context import app as connect

    try:
        planner = TemplatePlanner.from_json(plan_path.read_bytes())
        service = connect().campaign_service
        with click.progressbar(label="starting contacts", file=sys.stderr, length=0) as bar:
            report = service.start_campaign(tenant_id, campaign_id, planner, sender_ids=sender_ids, progress=bar.update)
    except OieError as exc:
        problems = getattr(exc, "problems", None)
        for field, message in problems or []:
            note(f"  {field}: {message}")
        fail(exc)
    emit(
        {
            "campaign_id": campaign_id,
            "started": report.started,
            "already_running": report.already_running,
            "plan_versions": list(report.plan_versions),
        },
        columns=(),
        summary=f"campaign {campaign_id}: {report.started} contacts started, {report.already_running} already running, "
        f"plan version {', '.join(v[:12] for v in report.plan_versions) or '-'}",
    )


@campaigns.command("status")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--campaign", "campaign_id", default=None)
@click.option("--limit", default=10_000, show_default=True)
@json_option
def status(tenant_id: str, campaign_id: str | None, limit: int) -> None:
    """How many contacts are where: by campaign, status and current node."""
    from oie.cli.context import app as connect

    states = connect().campaign_service.states.in_campaign(tenant_id, campaign_id, limit)
    counts = Counter((s.campaign_id, s.status, s.current_node) for s in states)
    rows = [
        {"campaign": campaign, "status": state, "current_node": node, "contacts": n}
        for (campaign, state, node), n in sorted(counts.items())
    ]
    emit(rows, summary=None if rows else "no contact campaigns")


def _control(action: Action, tenant_id: str, campaign_id: str | None, contact: str | None, reason: str) -> None:
    import getpass

    from oie.cli.context import app as connect

    control = connect().campaign_control
    lead_id = None
    if contact is not None:
        lead_id = control.lead_for(tenant_id, contact) if "@" in contact else contact
    scope: ScopeKind = "contact" if contact is not None else "campaign" if campaign_id is not None else "tenant"
    try:
        request = ControlRequest(action=action, scope=scope, campaign_id=campaign_id, lead_id=lead_id, reason=reason)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise CommandError(error["msg"], code="invalid_input", field=str(error["loc"][0])) from None
    result = control.apply(tenant_id, request, f"cli:{getpass.getuser()}")
    where = {"tenant": f"tenant {tenant_id}", "campaign": f"campaign {campaign_id}"}.get(scope, f"contact {lead_id}")
    summary = f"{where}: {result.state}" + ("" if result.changed else " (already)")
    if result.contacts:
        summary += f", {result.contacts} contact campaign(s) changed"
    emit(result.model_dump(mode="json"), summary=summary)


def _control_command(action: Action, doc: str) -> None:
    @campaigns.command(action, help=doc)
    @click.option("--tenant", "tenant_id", required=True)
    @click.option("--campaign", "campaign_id", default=None, help="One campaign (with --contact: in that campaign).")
    @click.option("--contact", default=None, metavar="EMAIL_OR_LEAD_ID", help="One contact (all its campaigns).")
    @click.option("--reason", default="", help="Why; kept with the change.")
    @json_option
    def command(tenant_id: str, campaign_id: str | None, contact: str | None, reason: str) -> None:
        _control(action, tenant_id, campaign_id, contact, reason)


_control_command("pause", "Pause a tenant, a campaign or a contact: due steps wait, nothing is sent.")
_control_command("resume", "Resume: held steps are scheduled again (a stopped scope cannot be resumed: exit 1).")
_control_command("stop", "Stop for good: nothing is sent again in that scope.")
