"""The console's admin pages: the hot-leads landing page, a lead's timeline, the pause quick action.

Registered in oie.outcomes.pages (the login, sessions and CSRF live there); every read goes
through ConsoleService and oie.console.overview, the charts are server-rendered SVG.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from pydantic import ValidationError
from werkzeug.datastructures import MultiDict
from werkzeug.routing import Rule

from oie import doc_ids
from oie.campaigns.control import ControlRequest
from oie.console import charts
from oie.console.http import hot_leads_query
from oie.console.models import LEVELS, HotLead, HotLeadsQuery, Timeline, TimelineItem
from oie.console.overview import overview
from oie.errors import InputError
from oie.outcomes.service import input_error
from oie.planner import pages as planner_pages

if TYPE_CHECKING:
    from flask import Response

    from oie.outcomes.pages import Page

RULES = (
    Rule("/t/<tenant>/admin/", methods=["GET"], endpoint="console.hot_leads"),
    Rule("/t/<tenant>/admin/hot-leads/control", methods=["POST"], endpoint="console.control"),
)
FILTER_FIELDS = ("level", "campaign", "since", "owner", "q")
LEVEL_CHOICES = (("", "warm and above"), *((level, level) for level in LEVELS), (",".join(LEVELS), "any level"))
SINCE_CHOICES = (
    ("", "any time"),
    ("15m", "last 15 minutes"),
    ("1h", "last hour"),
    ("24h", "last day"),
    ("7d", "last 7 days"),
)
HIDDEN_FACTS = {"visitor_id", "ended_at", "message_id"}  # ids and raw times a person does not read
ACTIONS = ("pause", "resume")  # a member's quick actions; stop is final and lives on the Campaigns page


def hot_leads(page: Page, args: dict[str, str]) -> Response:
    """Leads ranked by intent, filtered by a GET form; a bad filter is a 400 that keeps what was typed."""
    app, now = page.app, page.app.clock.now()
    typed = {name: page.request.args.get(name, "")[:200] for name in FILTER_FIELDS}
    error = ""
    try:
        query = hot_leads_query(MultiDict([(k, v) for k, v in typed.items() if v.strip()]), now)
    except InputError as exc:
        query, error = HotLeadsQuery(), f"{exc.field}: {exc.message}" if exc.field else exc.message
    leads = [] if error else app.console_service.hot_leads(page.tenant, query).leads
    facts = overview(app.warehouse, page.tenant, now.date())
    campaigns = facts.campaigns + ([typed["campaign"]] if typed["campaign"] not in ("", *facts.campaigns) else [])
    counts = app.outcome_store.stage_counts(page.tenant)
    return page.render(
        "hot_leads.html",
        status=400 if error else 200,
        leads=[_row(lead, now) for lead in leads],
        filtered=any(v.strip() for v in typed.values()),
        typed=typed,
        error=error,
        levels=LEVEL_CHOICES,
        since_choices=SINCE_CHOICES,
        campaigns=campaigns,
        done=_done(page),
        level_chart=charts.bars(
            facts.levels, "Leads by intent level now", empty="No scored leads yet: import leads and send a campaign."
        ),
        hot_chart=charts.bars(
            [(d.strftime("%a %d"), n) for d, n in facts.hot_per_day],
            "Leads that became hot or burning, last 7 days",
            empty="No lead became hot in the last 7 days.",
        ),
        stages=[{"stage": s, "leads": n} for s, n in counts.items() if n],
        total=sum(counts.values()),
        nudges=[n for n in app.outcome_store.nudges(page.tenant, 20) if not n.get("dismissed_at")],
    )


def _row(lead: HotLead, now: datetime) -> dict[str, Any]:
    who = lead.name or lead.email or lead.lead_id
    return {
        "lead": lead,
        "who": who,
        "href": f"/leads/{quote(lead.lead_id)}",
        "seen": _ago(now, lead.last_seen_at),
        "spark": charts.sparkline([p.score for p in lead.trend], f"Score of {who}, last 7 days"),
    }


def _ago(now: datetime, then: datetime) -> str:
    minutes = max(int((now - then).total_seconds() // 60), 0)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h ago"
    return f"{minutes // 1440} days ago"


def _done(page: Page) -> str:
    """The confirmation after a quick action (only known words and a valid id are echoed)."""
    action, lead = page.request.args.get("done", ""), page.request.args.get("lead", "")
    if action in ACTIONS and doc_ids.is_valid("lead_id", lead):
        return f"{'Paused' if action == 'pause' else 'Resumed'} the campaign of lead {lead}."
    return ""


def control(page: Page, args: dict[str, str]) -> Response:
    """Pause or resume one lead in one campaign (CSRF and the role are checked by the router)."""
    form = page.request.form
    action, lead = form.get("action", "pause"), form.get("lead_id", "")
    if action not in ACTIONS:
        raise InputError("the quick actions are pause and resume", field="action")
    try:
        request = ControlRequest.model_validate(
            {"action": action, "scope": "contact", "lead_id": lead, "campaign_id": form.get("campaign_id") or None}
        )
    except ValidationError as exc:
        raise input_error(exc) from None
    actor = page.actor.label if page.actor else ""
    page.app.campaign_control.apply(page.tenant, request, actor)
    done = urlencode({"done": action, "lead": lead})
    return page.redirect(f"/leads/{quote(lead)}?{done}" if form.get("back") == "lead" else f"/?{done}")


def timeline_context(page: Page, lead_id: str) -> dict[str, Any]:
    """What lead.html needs besides the outcome form: the merged timeline, the plans, the score chart."""
    story: Timeline = page.app.console_service.timeline(page.tenant, lead_id)
    score = charts.line(
        [(p.day.strftime("%b %d"), p.score) for p in story.score],
        "Score over the last 30 days",
        empty="No score yet: the score appears after the lead's first visit.",
    )
    # Newest first: what just happened is what an SDR reads first.
    items = [{"item": item, "facts": _facts(item)} for item in reversed(story.items)]
    # The lead analysis and how each campaign's plan was made (model, prompt, tokens): oie.planner.
    plans = planner_pages.lead_plans(page, lead_id, [plan.campaign_id for plan in story.campaigns])
    crm = _crm(page, lead_id)
    return {"story": story, "items": items, "score_chart": score, "done": _done(page), "crm": crm, **plans}


def _crm(page: Page, lead_id: str) -> Any:
    """The lead's CRM contact (oie.crm): crmContactId, synced, last synced, last error; None with no CRM ever."""
    state = page.app.crm_connections.lead_sync_state(page.tenant, lead_id)
    if state.crm_contact_id or state.last_error or page.app.crm_connections.status(page.tenant).connected:
        return state
    return None


def _facts(item: TimelineItem) -> list[tuple[str, str]]:
    """An item's facts as a person reads them: set ones only, ids and raw times left out, units added."""
    shown = []
    for key, value in item.facts.items():
        if key in HIDDEN_FACTS or value in (None, "", 0, False):
            continue
        if key == "duration_s" and isinstance(value, int | float):
            text = f"{int(value) // 60} min {int(value) % 60} s"
        elif key == "max_scroll":
            text = f"{value}%"
        else:
            text = str(value)
        shown.append((key.removesuffix("_s").replace("_", " "), text))
    return shown
