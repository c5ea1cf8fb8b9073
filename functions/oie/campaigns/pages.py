"""The console's Campaigns page: each campaign's funnel, its contacts' states, and pause / resume / stop.

The funnel is read from the message_metrics rollups (`console_campaign_funnels`), each A/B/n step's
variants from variant_metrics (`console_variant_funnels`, oie.campaigns.variant_view); the states from
Firestore, bounded. Controls go through the same ControlService as the API and the CLI: a member
may pause and resume, a stop asks for confirmation first, and a change after a stop is a 409 page.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from flask import Response
from pydantic import ValidationError

from oie import doc_ids
from oie.campaigns import variant_view
from oie.campaigns.control import ControlRequest, ControlResult
from oie.campaigns.models import ContactCampaign
from oie.console.charts import funnel
from oie.errors import Conflict, InputError, NotFound

if TYPE_CHECKING:
    from oie.outcomes.pages import Page

FUNNEL_DAYS = 90
MAX_CAMPAIGNS = 50
MAX_CONTACTS = 500  # the states page reads at most this many contact campaigns
PAGE_SIZE = 50
STEPS = (
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("opened", "Human opens"),
    ("clicked", "Clicks"),
    ("replied", "Replies"),
    ("site_visits", "Site visits"),
    ("became_hot", "Became hot"),
    ("appointments", "Appointments"),
    ("won", "Won"),
)
FIELDS = ("action", "scope", "campaign_id", "lead_id", "reason")
DONE = {"pause": "Paused", "resume": "Resumed", "stop": "Stopped"}


def campaigns(page: Page, args: dict[str, str]) -> Response:
    """GET: the funnels, the controls and the contacts (of one campaign with `?campaign=`)."""
    return _render(page, {}, 200)


def control(page: Page, args: dict[str, str]) -> Response:
    """POST: pause, resume or stop the tenant, a campaign or a contact; a stop is confirmed first."""
    form = {name: page.request.form.get(name, "")[:500] for name in FIELDS}
    if form["action"] == "stop" and page.request.form.get("confirm") != "yes":
        return _render(page, {"confirm": form}, 200)
    try:
        result = _apply(page, form)
    except Conflict as exc:
        return _render(page, {"error": exc.message, "form": form}, 409)
    except NotFound as exc:
        return _render(page, {"error": _named(exc.field, exc.message), "form": form}, 404)
    except InputError as exc:
        return _render(page, {"error": _named(exc.field, exc.message), "form": form}, 400)
    return _render(page, {"ok": _said(result)}, 200)


def _apply(page: Page, form: dict[str, str]) -> ControlResult:
    from oie.outcomes.service import input_error

    fields: dict[str, Any] = {"action": form["action"], "scope": form["scope"], "reason": form["reason"]}
    if form["campaign_id"]:
        fields["campaign_id"] = form["campaign_id"]
    if form["lead_id"]:
        lead = form["lead_id"].strip()
        # An address typed into the contact box names its lead.
        fields["lead_id"] = page.app.campaign_control.lead_for(page.tenant, lead) if "@" in lead else lead
    try:
        request = ControlRequest.model_validate(fields)
    except ValidationError as exc:
        raise input_error(exc) from None
    actor = page.actor
    who = f"key:{actor.key_id}" + (f" ({actor.label})" if actor and actor.label else "") if actor else "console"
    result: ControlResult = page.app.campaign_control.apply(page.tenant, request, who)
    return result


def _named(field: str | None, message: str) -> str:
    return f"{field}: {message}" if field else message


def _said(result: ControlResult) -> str:
    what = {
        "tenant": "All campaigns of this tenant",
        "campaign": f"Campaign {result.campaign_id}",
        "contact": f"Contact {result.lead_id}" + (f" in {result.campaign_id}" if result.campaign_id else ""),
    }[result.scope]
    if not result.changed:
        return f"{what} already {result.state}: nothing changed."
    moved = f" ({result.contacts} contact campaign{'s' if result.contacts != 1 else ''} changed)"
    return f"{DONE[result.action]}: {what} is now {result.state}{moved if result.contacts else ''}."


def state_of(contact: ContactCampaign) -> str:
    """The state a person reads: the contact's own status, or paused / held while it waits."""
    if contact.status == "active" and contact.held:
        return "held"
    if contact.status == "active" and contact.paused:
        return "paused"
    return contact.status


def _render(page: Page, result: dict[str, Any], status: int) -> Response:
    app, tenant = page.app, page.tenant
    chosen = page.request.args.get("campaign", "")
    chosen = chosen if doc_ids.is_valid("campaign_id", chosen) else ""
    wanted_state = page.request.args.get("state", "")[:40]
    since = app.clock.now().date() - timedelta(days=FUNNEL_DAYS)
    rows = app.warehouse.query(
        "console_campaign_funnels", {"tenant_id": tenant, "since": since, "limit_rows": MAX_CAMPAIGNS}
    )
    states = app.campaign_service.states
    contacts: list[ContactCampaign] = states.in_campaign(tenant, chosen or None, MAX_CONTACTS)
    ids = [str(r["campaign_id"]) for r in rows]
    ids += sorted({c.campaign_id for c in contacts} - set(ids))
    funnels = {str(r["campaign_id"]): r for r in rows}
    tests = variant_view.node_tests(
        app.warehouse.query(
            "console_variant_funnels", {"tenant_id": tenant, "limit_rows": variant_view.MAX_VARIANT_ROWS}
        )
    )
    shown = []
    for campaign_id in ids[:MAX_CAMPAIGNS]:
        row = funnels.get(campaign_id, {})
        steps = [(label, int(row.get(name) or 0)) for name, label in STEPS]
        shown.append(
            {
                "campaign_id": campaign_id,
                "control": states.control(tenant, campaign_id),
                "steps": steps,
                "chart": funnel(steps, f"Funnel of {campaign_id}", "No messages sent in the last 90 days."),
                "tests": tests.get(campaign_id, []),
            }
        )
    counts = Counter(state_of(c) for c in contacts)
    wanted_state = wanted_state if wanted_state in counts else ""
    listed = [c for c in contacts if not wanted_state or state_of(c) == wanted_state]
    pages = max(1, -(-len(listed) // PAGE_SIZE))
    raw_page = page.request.args.get("page", "1")
    number = min(max(int(raw_page), 1), pages) if re.fullmatch(r"[0-9]{1,7}", raw_page) else 1
    return page.render(
        "campaigns.html",
        status=status,
        result=result,
        tenant_control=states.control(tenant, None),
        campaigns=shown,
        chosen=chosen,
        wanted_state=wanted_state,
        counts=sorted(counts.items()),
        contacts=[(c, state_of(c)) for c in listed[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]],
        total=len(listed),
        capped=len(contacts) >= MAX_CONTACTS,
        max_contacts=MAX_CONTACTS,
        page_number=number,
        pages=pages,
        days=FUNNEL_DAYS,
        variant_steps=variant_view.STEP_LABELS,
    )
