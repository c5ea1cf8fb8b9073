"""The admin pages: server-rendered HTML behind a login with the tenant's admin key.

Sessions are signed http-only cookies (SameSite=Strict); every form carries the session's
CSRF token. Pages call the same outcomes service as the API.
"""

from __future__ import annotations

import logging
import math
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from flask import Request, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from oie import doc_ids
from oie.campaigns import pages as campaign_pages
from oie.configuration import pages as settings_pages
from oie.console import pages as console_pages
from oie.errors import (
    BackendUnavailable,
    Conflict,
    Forbidden,
    InputError,
    NotFound,
    OieError,
    Unauthenticated,
    status_for,
)
from oie.http import read_body
from oie.outcomes.auth import ADMIN_ONLY, Actor, Scope, authenticate
from oie.outcomes.models import TIERS, OutcomeIn
from oie.outcomes.service import input_error
from oie.outcomes.win_rates import MAX_WEEKS, WinRateQuery, current_week, to_csv, win_rates
from oie.planner import pages as planner_pages
from oie.wiring import Container, container

log = logging.getLogger(__name__)
PAGE_SIZE = 50
SEARCH_LIMIT = 50
MAX_FILTER = 80  # attribute values are at most 80 characters: a longer filter matches nothing
RETRY_AFTER = "5"
MAX_FORM = 256 * 1024  # a bulk form of 500 lead ids and 2000-character notes fits many times over
SORTABLE = ("dimension", "leads_entered", "appointments", "won", "lost", "win_rate")
PAGES = Map(
    [
        Rule("/t/<tenant>/admin/login", methods=["GET", "POST"], endpoint="login"),
        Rule("/t/<tenant>/admin/logout", methods=["POST"], endpoint="logout"),
        *(rule.empty() for rule in console_pages.RULES),  # the hot-leads landing page and its quick action
        Rule("/t/<tenant>/admin/dashboard", methods=["GET"], endpoint="dashboard"),
        Rule("/t/<tenant>/admin/leads", methods=["GET"], endpoint="search"),
        Rule("/t/<tenant>/admin/leads/<lead>", methods=["GET", "POST"], endpoint="lead"),
        Rule("/t/<tenant>/admin/bulk", methods=["GET", "POST"], endpoint="bulk"),
        Rule("/t/<tenant>/admin/win-rates", methods=["GET"], endpoint="win_rates"),
        Rule("/t/<tenant>/admin/win-rates.csv", methods=["GET"], endpoint="win_rates_csv"),
        Rule("/t/<tenant>/admin/missing", methods=["GET", "POST"], endpoint="missing"),
        Rule("/t/<tenant>/admin/nudges/<nudge>/dismiss", methods=["POST"], endpoint="dismiss"),
        Rule("/t/<tenant>/admin/campaigns", methods=["GET"], endpoint="campaigns"),
        Rule("/t/<tenant>/admin/campaigns/control", methods=["POST"], endpoint="campaigns_control"),
        Rule("/t/<tenant>/admin/settings", methods=["GET"], endpoint="settings_index"),
        Rule("/t/<tenant>/admin/settings/<section>", methods=["GET", "POST"], endpoint="settings"),
        *(rule.empty() for rule in planner_pages.RULES),  # the review queue of AI plans
    ],
    strict_slashes=False,
)
# What a POST to each page needs: members record outcomes; any other change (settings) is an admin's.
POST_SCOPE: dict[str, Scope | None] = {
    "logout": None,
    "lead": "outcomes:write",
    "bulk": "outcomes:write",
    "missing": "outcomes:write",
    "dismiss": "outcomes:write",
    "console.control": "outcomes:write",  # as in the API: any key that may write pauses one lead
    "campaigns_control": "outcomes:write",  # as in the API: a member (an SDR) pauses, resumes and stops
    **planner_pages.POST_SCOPE,  # approving or rejecting an AI plan: campaigns:pause
}


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("oie.outcomes", "templates"), autoescape=select_autoescape())


class Page:
    """One request's context: the tenant, the admin (once logged in), and how to answer."""

    def __init__(self, app: Container, request: Request, tenant: str) -> None:
        self.app, self.request, self.tenant = app, request, tenant
        self.base = f"{request.script_root}/t/{tenant}/admin"
        # The session is checked against its key (revoked?): Firestore down is a 503 page, raised in handle.
        self.unavailable: BackendUnavailable | None = None
        try:
            session = app.admin_sessions.read(tenant, request.cookies.get(app.admin_sessions.COOKIE))
        except BackendUnavailable as exc:
            session, self.unavailable = None, exc
        self.actor: Actor | None = session[0] if session else None
        self.csrf = session[1] if session else ""

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        html = (
            _templates()
            .get_template(template)
            .render(base=self.base, tenant=self.tenant, csrf=self.csrf, actor=self.actor, **context)
        )
        return Response(
            html,
            status=status,
            mimetype="text/html",
            headers={
                "Cache-Control": "no-store",
                "X-Frame-Options": "DENY",
                "Content-Security-Policy": "default-src 'self'; style-src 'unsafe-inline'; "
                "script-src 'unsafe-inline'; frame-ancestors 'none'",
            },
        )

    def redirect(self, path: str) -> Response:
        return Response(status=303, headers={"Location": f"{self.base}{path}"})

    def check_csrf(self) -> None:
        if not self.csrf or self.request.form.get("csrf") != self.csrf:
            raise Forbidden("the form is stale or forged; reload the page", field="csrf")


def handle(request: Request) -> Response:
    """Route, check the path's ids, log in, and answer every failure with a page of its own."""
    try:
        endpoint, args = PAGES.bind("").match(request.path, method=request.method)
    except HTTPException as exc:
        return Response(exc.description or "not found", status=exc.code or 404, mimetype="text/plain")
    if not doc_ids.is_valid("tenant_id", args["tenant"]):
        return Response("not found", status=404, mimetype="text/plain")
    app = container()
    page = Page(app, request, args["tenant"])
    try:
        if page.unavailable is not None:
            raise page.unavailable
        if endpoint == "login":
            if request.method == "POST":
                read_body(request, MAX_FORM)
            return _login(page)
        if page.actor is None:
            return page.redirect("/login")
        # Ids from the path name documents: one that is not of its kind names none (404).
        for name, kind in (("lead", "lead_id"), ("nudge", "nudge_id")):
            if name in args and not doc_ids.is_valid(kind, args[name]):
                raise NotFound(f"no such {name}")
        if request.method == "POST":
            read_body(request, MAX_FORM)  # before the form is parsed: chunked uploads have no length
            page.check_csrf()
            scope = POST_SCOPE.get(endpoint, "admin")
            if scope is not None and not page.actor.may(scope):
                raise Forbidden(ADMIN_ONLY if page.actor.role == "member" else "this key may not change that")
        return VIEWS[endpoint](page, dict(args))
    except Forbidden as exc:
        return page.render("message.html", status=403, title="Not allowed", message=exc.message)
    except NotFound as exc:
        return page.render("message.html", status=404, title="Not found", message=exc.message)
    except BackendUnavailable as exc:
        log.warning("admin: backend unavailable: %s", exc.message)
        response = page.render(
            "message.html",
            status=503,
            title="Temporarily unavailable",
            message="The outcomes database or warehouse is not answering right now. Wait a few seconds "
            "and reload the page. If you were recording an outcome, check the lead's timeline before "
            "sending it again.",
        )
        response.headers["Retry-After"] = RETRY_AFTER
        return response
    except OieError as exc:
        message = f"{exc.field}: {exc.message}" if exc.field else exc.message
        return page.render("message.html", status=status_for(exc), title="That did not work", message=message)


def _login(page: Page) -> Response:
    if page.request.method == "GET":
        return page.render("login.html")
    try:
        key = "Bearer " + page.request.form.get("key", "")
        actor = authenticate(page.app.api_keys, page.tenant, key, "outcomes:read")
        if not actor.may_log_in:
            raise Forbidden("an API-only key")
    except (Unauthenticated, Forbidden):
        refused = "That key is not an admin key (nor a member key) of this tenant."
        return page.render("login.html", status=401, error=refused)
    cookie, _ = page.app.admin_sessions.issue(page.tenant, actor)
    response = page.redirect("/")
    response.set_cookie(
        page.app.admin_sessions.COOKIE,
        cookie,
        httponly=True,
        samesite="Strict",
        secure=page.request.scheme == "https" or page.app.settings.env == "prod",
        path=page.base,
        max_age=8 * 3600,
    )
    return response


def _logout(page: Page, args: dict[str, str]) -> Response:
    response = page.redirect("/login")
    response.delete_cookie(page.app.admin_sessions.COOKIE, path=page.base)
    return response


def _dashboard(page: Page, args: dict[str, str]) -> Response:
    counts = page.app.outcome_store.stage_counts(page.tenant)
    stages = [{"stage": s, "leads": n} for s, n in counts.items() if n]
    nudges = [n for n in page.app.outcome_store.nudges(page.tenant, 20) if not n.get("dismissed_at")]
    return page.render("dashboard.html", stages=stages, total=sum(counts.values()), nudges=nudges)


def _search(page: Page, args: dict[str, str]) -> Response:
    q = page.request.args.get("q", "")[:200]
    found = page.app.outcome_store.search_leads(page.tenant, q, SEARCH_LIMIT) if q.strip() else []
    if len(found) == 1 and doc_ids.is_valid("lead_id", found[0].get("lead_id")):
        return page.redirect(f"/leads/{quote(found[0]['lead_id'])}")
    return page.render("leads.html", q=q, leads=found, limit=SEARCH_LIMIT)


def _lead(page: Page, args: dict[str, str]) -> Response:
    service = page.app.outcomes_service
    try:
        lead = service.lead(page.tenant, args["lead"])
    except NotFound:
        return page.render("message.html", status=404, title="No such lead", message="This tenant has no such lead.")
    result: dict[str, Any] = {}
    # What the person typed: shown again after any refusal, cleared only once recorded.
    form = {"outcome_type": "", "occurred_at": "", "notes": "", "override": False}
    if page.request.method == "POST":
        sent = page.request.form
        form = {
            "outcome_type": sent.get("outcome_type", ""),
            "occurred_at": sent.get("occurred_at", ""),
            "notes": sent.get("notes", ""),
            "override": sent.get("override") == "on",
        }
        try:
            try:
                item = OutcomeIn.model_validate(
                    {
                        "lead_id": args["lead"],
                        "outcome_type": form["outcome_type"],
                        "occurred_at": form["occurred_at"] or None,
                        "notes": form["notes"],
                        "override": form["override"],
                    }
                )
            except ValidationError as exc:
                raise input_error(exc) from None
            done = service.record(page.tenant, item, page.actor)  # type: ignore[arg-type]
            result = {"ok": f"Recorded {done.outcome.outcome_type}.", "warnings": done.warnings}
            form = {"outcome_type": "", "occurred_at": "", "notes": "", "override": False}
            lead = service.lead(page.tenant, args["lead"])
        except Conflict as exc:
            result = {"error": exc.message, "blocked": True}
        except (InputError, NotFound) as exc:
            result = {"error": f"{exc.field}: {exc.message}" if exc.field else exc.message}
    history = service.history(page.tenant, args["lead"])
    config = page.app.outcome_store.config(page.tenant)
    status = 409 if result.get("blocked") else 400 if result.get("error") else 200
    return page.render(
        "lead.html",
        status=status,
        lead=lead,
        history=history,
        types=list(config.types),
        result=result,
        form=form,
        **console_pages.timeline_context(page, args["lead"]),  # the whole story and the score chart
    )


FILTERS = ("source_key", "geo_key", "tier", "assigned_partner")


def _bulk(page: Page, args: dict[str, str]) -> Response:
    filters = {k: v for k in FILTERS if (v := page.request.values.get(k, "").strip())}
    results: list[dict[str, Any]] = []
    form = {"outcome_type": "", "notes": ""}
    if page.request.method == "POST":
        form = {"outcome_type": page.request.form.get("outcome_type", ""), "notes": page.request.form.get("notes", "")}
        lead_ids = page.request.form.getlist("lead_id")
        items = [{"lead_id": lead, **form} for lead in lead_ids]
        results = page.app.outcomes_service.record_many(page.tenant, items, page.actor)  # type: ignore[arg-type]
    too_long = [k for k, v in filters.items() if len(v) > MAX_FILTER]
    found = [] if too_long else page.app.outcome_store.leads(page.tenant, filters, 500)
    leads = [_lead_row(lead) for lead in found]
    types = list(page.app.outcome_store.config(page.tenant).types)
    failed = any(r["status"] >= 400 for r in results)
    return page.render(
        "bulk.html",
        status=400 if failed or too_long else 200,
        leads=leads,
        filters=filters,
        tiers=TIERS,
        types=types,
        results=results,
        form=form if failed else {"outcome_type": form["outcome_type"], "notes": ""},
        selected=set(page.request.form.getlist("lead_id")) if failed else set(),
        error=f"{too_long[0]}: at most {MAX_FILTER} characters" if too_long else "",
    )


def _lead_row(lead: dict[str, Any]) -> dict[str, Any]:
    """A lead as the tables show it, whatever it carries (an import without attributes has none)."""
    attributes = lead.get("attributes") if isinstance(lead.get("attributes"), dict) else {}
    state = lead.get("state") if isinstance(lead.get("state"), dict) else {}
    return {
        "lead_id": str(lead.get("lead_id", "")),
        "name": " ".join(str(lead.get(k) or "") for k in ("first_name", "last_name")).strip(),
        "email": str(lead.get("email", "")),
        "company": str(lead.get("company", "")),
        "stage": (state or {}).get("current_stage") or "",
        **{k: str((attributes or {}).get(k) or "") for k in FILTERS},
    }


def _win_rate_rows(page: Page) -> tuple[WinRateQuery, list[dict[str, Any]], str]:
    by = page.request.args.get("by", "source")
    try:
        query = WinRateQuery.from_args(by, dict(page.request.args))
        return query, win_rates(page.app.warehouse, page.tenant, query, page.app.clock.now()), ""
    except InputError as exc:
        fallback = WinRateQuery(by=by if by in ("source", "geo", "intent_level") else "source")  # type: ignore[arg-type]
        return fallback, [], exc.message


def _win_rates(page: Page, args: dict[str, str]) -> Response:
    query, rows, error = _win_rate_rows(page)
    sort = page.request.args.get("sort", "win_rate")
    sort = sort if sort in SORTABLE else "win_rate"
    descending = page.request.args.get("dir", "desc") != "asc"
    if rows:
        rows = sorted(rows, key=lambda r: (r[sort] is None, r[sort] if r[sort] is not None else 0), reverse=descending)
        if descending:  # keep "no decided leads" at the end either way
            rows = [r for r in rows if r[sort] is not None] + [r for r in rows if r[sort] is None]
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    raw_page = page.request.args.get("page", "1")
    number = min(max(int(raw_page), 1), pages) if re.fullmatch(r"[0-9]{1,7}", raw_page) else 1
    shown = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    params = {k: v for k, v in page.request.args.items() if k not in ("page", "sort", "dir")}
    return page.render(
        "win_rates.html",
        query=query,
        rows=shown,
        total=len(rows),
        page_number=number,
        pages=pages,
        sort=sort,
        descending=descending,
        params=params,
        urlencode=urlencode,
        max_weeks=MAX_WEEKS,
        partial_from=current_week(page.app.clock.now()).date(),
        # What was typed is shown again, even when it was refused.
        typed={
            name: page.request.args.get(name, str(getattr(query, name)))[:200]
            for name in ("weeks", "intent_type", "min_denominator")
        },
        error=error,
        status=400 if error else 200,
    )


def _win_rates_csv(page: Page, args: dict[str, str]) -> Response:
    query, rows, error = _win_rate_rows(page)
    if error:
        return Response(error, status=400, mimetype="text/plain")
    return Response(
        to_csv(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=win-rates-by-{query.by}.csv"},
    )


def _missing(page: Page, args: dict[str, str]) -> Response:
    results: list[dict[str, Any]] = []
    if page.request.method == "POST":
        item = {"lead_id": page.request.form.get("lead_id", ""), "outcome_type": page.request.form.get("outcome_type")}
        if item["outcome_type"] not in ("contacted", "invalid"):
            raise InputError("quick actions are contacted or invalid", field="outcome_type")
        results = page.app.outcomes_service.record_many(page.tenant, [item], page.actor)  # type: ignore[arg-type]
    stale = page.app.outcomes_service.missing(page.tenant)
    failed = any(r["status"] >= 400 for r in results)
    return page.render("missing.html", status=400 if failed else 200, stale=stale, results=results)


def _dismiss(page: Page, args: dict[str, str]) -> Response:
    actor = page.actor
    page.app.outcome_store.dismiss_nudge(page.tenant, args["nudge"], actor.label if actor else "", page.app.clock.now())
    return page.redirect("/")


VIEWS = {
    "logout": _logout,
    "dashboard": _dashboard,
    "search": _search,
    "lead": _lead,
    "bulk": _bulk,
    "win_rates": _win_rates,
    "win_rates_csv": _win_rates_csv,
    "missing": _missing,
    "dismiss": _dismiss,
    "console.hot_leads": console_pages.hot_leads,
    "console.control": console_pages.control,
    "campaigns": campaign_pages.campaigns,
    "campaigns_control": campaign_pages.control,
    "settings_index": settings_pages.index,
    "settings": settings_pages.section,
    **planner_pages.VIEWS,
}
