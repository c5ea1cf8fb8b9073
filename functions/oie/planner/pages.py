"""The console's plan-review pages, and what a lead's page shows of its language-model plans.

Registered in oie.outcomes.pages (login, sessions and CSRF live there). Every member may read
the queue; approving (as planned or edited) and rejecting need the `campaigns:pause` scope,
which admins and member keys have (a read-only member key does not). Decisions go through
the same ReviewService as the CLI, so an edit passes the planner's own guardrails.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from werkzeug.routing import Rule

from oie.campaigns.models import contact_campaign_id
from oie.campaigns.plan import PlanInvalid, SendNode
from oie.errors import Conflict, InputError, NotFound
from oie.outcomes.auth import Scope
from oie.planner.review import PlanReview, copy_of

if TYPE_CHECKING:
    from flask import Response

    from oie.outcomes.pages import Page

RULES = (
    Rule("/t/<tenant>/admin/plan-reviews", methods=["GET"], endpoint="plan_reviews"),
    Rule("/t/<tenant>/admin/plan-reviews/<review>", methods=["GET"], endpoint="plan_review"),
    Rule("/t/<tenant>/admin/plan-reviews/<review>/approve", methods=["POST"], endpoint="plan_review_approve"),
    Rule("/t/<tenant>/admin/plan-reviews/<review>/reject", methods=["POST"], endpoint="plan_review_reject"),
)
DECIDE: Scope = "campaigns:pause"  # starting or refusing a contact's sends, as pausing them is
POST_SCOPE: dict[str, Scope | None] = {"plan_review_approve": DECIDE, "plan_review_reject": DECIDE}
LIST_LIMIT = 50
PLANS_DAYS = 365  # how far back a lead page looks for plan generations
PLANS_LIMIT = 10
_REVIEW_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}_ld_[0-9A-Za-z]{8,32}_email$")
_DONE = {"approved": "Approved: the contact's campaign has started.", "rejected": "Rejected: nothing will be sent."}


def _review_id(args: dict[str, str]) -> str:
    if not _REVIEW_ID.fullmatch(args["review"]):
        raise NotFound("no such plan review")
    return args["review"]


def may_decide(page: Page) -> bool:
    return page.actor is not None and page.actor.may(DECIDE)


def usage(record: dict[str, Any]) -> dict[str, Any]:
    """What a person reads of a generation record: model, prompt version, tokens, cost, outcome."""
    return {
        "model": str(record.get("model") or "—"),
        "prompt_version": str(record.get("prompt_version") or "—"),
        "prompt_tokens": int(record.get("prompt_tokens") or 0),
        "output_tokens": int(record.get("output_tokens") or 0),
        "cost_usd": float(record.get("cost_usd") or 0.0),
        "outcome": str(record.get("outcome") or ""),
        "fallback_reason": str(record.get("fallback_reason") or ""),
    }


def _summary(review: PlanReview) -> str:
    analysis = review.analysis
    if isinstance(analysis, dict):
        analysis = analysis.get("summary") or analysis.get("text") or ""
    return str(analysis or review.record.get("lead_analysis") or "")


def _row(review: PlanReview) -> dict[str, Any]:
    contact = review.contact
    who = " ".join(p for p in (contact.first_name, contact.last_name) if p) or contact.email
    return {
        "review": review,
        "id": review.contact_campaign_id,
        "href": f"/plan-reviews/{quote(review.contact_campaign_id)}",
        "who": who,
        "company": contact.company,
        "summary": _summary(review),
        "usage": usage(review.record),
    }


def reviews(page: Page, args: dict[str, str]) -> Response:
    """GET: the pending plans, newest first, each with its lead, evidence summary, copy and usage."""
    pending = page.app.plan_reviews.pending(page.tenant, LIST_LIMIT)
    config = page.app.planner_configs.get(page.tenant)
    done = page.request.args.get("done", "")
    return page.render(
        "plan_reviews.html",
        rows=[_row(r) for r in pending],
        limit=LIST_LIMIT,
        reviewing=config.review_ai_plans,
        may_decide=may_decide(page),
        done=_DONE.get(done, ""),
    )


def _render_one(page: Page, review: PlanReview, status: int = 200, **extra: Any) -> Response:
    edits = extra.pop("edits", None) or {m.node_id: {"subject": m.subject, "text": m.text} for m in review.messages}
    return page.render(
        "plan_review.html",
        status=status,
        row=_row(review),
        edits=edits,
        may_decide=may_decide(page),
        nodes=[n.id for n in (review.approved_plan or review.plan).nodes],
        shown=copy_of(review.approved_plan) if review.approved_plan else review.messages,
        **extra,
    )


def review(page: Page, args: dict[str, str]) -> Response:
    """GET: one plan, its copy per send node (editable while pending) and the decision forms."""
    return _render_one(page, page.app.plan_reviews.get(page.tenant, _review_id(args)))


def _edited(review: PlanReview, form: Any) -> tuple[dict[str, dict[str, str]], dict[str, Any] | None]:
    """The copy as the form sent it, and the edited plan (None when nothing changed)."""
    edits = {
        m.node_id: {
            "subject": str(form.get(f"subject-{m.node_id}", m.subject))[:500],
            "text": str(form.get(f"text-{m.node_id}", m.text))[:5000],
        }
        for m in review.messages
    }
    if all(edits[m.node_id] == {"subject": m.subject, "text": m.text} for m in review.messages):
        return edits, None
    plan = review.plan.model_dump(mode="json", by_alias=True)
    for node, raw in zip(review.plan.nodes, plan["nodes"], strict=True):
        if isinstance(node, SendNode) and node.id in edits and raw.get("template") is not None:
            raw["template"] = {**raw["template"], **edits[node.id]}
            raw["template"].pop("html", None)  # the HTML was the old copy's; the engine renders the text
    return edits, plan


def approve(page: Page, args: dict[str, str]) -> Response:
    """POST: approve as planned, or with the copy as edited (checked like the model's); starts the contact."""
    service = page.app.plan_reviews
    current = service.get(page.tenant, _review_id(args))
    edits, plan = _edited(current, page.request.form)
    try:
        service.approve(page.tenant, current.contact_campaign_id, _who(page), plan)
    except PlanInvalid as exc:
        problems = [f"{_where(current, field)}: {message}" for field, message in exc.problems]
        return _render_one(page, current, 400, edits=edits, problems=problems)
    except Conflict as exc:
        return _render_one(page, service.get(page.tenant, current.contact_campaign_id), 409, error=exc.message)
    return page.redirect("/plan-reviews?" + urlencode({"done": "approved"}))


def reject(page: Page, args: dict[str, str]) -> Response:
    """POST: reject with a reason; nothing is sent to the contact."""
    service = page.app.plan_reviews
    current = service.get(page.tenant, _review_id(args))
    reason = page.request.form.get("reason", "")[:1001]
    try:
        service.reject(page.tenant, current.contact_campaign_id, _who(page), reason)
    except Conflict as exc:
        return _render_one(page, service.get(page.tenant, current.contact_campaign_id), 409, error=exc.message)
    except InputError as exc:  # the reason is missing or too long
        return _render_one(page, current, 400, reject_error=exc.message, reason=reason)
    return page.redirect("/plan-reviews?" + urlencode({"done": "rejected"}))


def _where(review: PlanReview, field: str) -> str:
    """`plan.nodes[0].template.subject` as the form names it: `intro, subject`."""
    match = re.fullmatch(r"(?:plan\.)?nodes\[(\d+)\]\.template\.(subject|text)", field)
    if match is None or int(match.group(1)) >= len(review.plan.nodes):
        return field
    return f"{review.plan.nodes[int(match.group(1))].id}, {match.group(2)}"


def _who(page: Page) -> str:
    actor = page.actor
    return f"key:{actor.key_id}" + (f" ({actor.label})" if actor.label else "") if actor else "console"


VIEWS = {
    "plan_reviews": reviews,
    "plan_review": review,
    "plan_review_approve": approve,
    "plan_review_reject": reject,
}


def lead_plans(page: Page, lead_id: str, campaign_ids: list[str]) -> dict[str, Any]:
    """For the lead page: the lead analysis, and per campaign how its plan was made and its copy."""
    app, tenant = page.app, page.tenant
    doc = app.outcome_store.lead(tenant, lead_id) or {}
    since = app.clock.now() - timedelta(days=PLANS_DAYS)
    rows = app.warehouse.query(
        "console_lead_plans", {"tenant_id": tenant, "lead_id": lead_id, "since": since, "limit_rows": PLANS_LIMIT}
    )
    made = {str(r["campaign_id"]): r for r in rows}
    plans: dict[str, dict[str, Any]] = {}
    service = app.campaign_service
    for campaign_id in campaign_ids[:PLANS_LIMIT]:
        state = service.states.get(tenant, contact_campaign_id(campaign_id, lead_id))
        plan = service.plans.get(tenant, state.plan_version) if state is not None else None
        record = made.get(campaign_id)
        plans[campaign_id] = {
            "version": state.plan_version[:12] if state is not None else "",
            "usage": usage(record) if record else None,
            "emails": [
                {"node_id": n.id, "subject": getattr(n.template, "subject", ""), "variants": len(n.variants or ())}
                for n in (plan.nodes if plan else ())
                if isinstance(n, SendNode)
            ],
        }
    return {"lead_analysis": str(doc.get("intent_summary") or ""), "ai_plans": plans}
