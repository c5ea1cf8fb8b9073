"""The admin pages: server-rendered HTML behind a login with the tenant's admin key.

Sessions are signed http-only cookies (SameSite=Strict); every form carries the session's
CSRF token. Pages call the same outcomes service as the API.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from flask import Request, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from oie.errors import Conflict, Forbidden, InputError, NotFound, OieError, Unauthenticated
from oie.outcomes.auth import Actor, authenticate
from oie.outcomes.models import TIERS, OutcomeIn
from oie.outcomes.win_rates import MAX_WEEKS, WinRateQuery, to_csv, win_rates
from oie.wiring import Container, container

PAGE_SIZE = 50
PAGES = Map(
    [
        Rule("/t/<tenant>/admin/login", methods=["GET", "POST"], endpoint="login"),
        Rule("/t/<tenant>/admin/logout", methods=["POST"], endpoint="logout"),
        Rule("/t/<tenant>/admin/", methods=["GET"], endpoint="dashboard"),
        Rule("/t/<tenant>/admin/leads/<lead>", methods=["GET", "POST"], endpoint="lead"),
        Rule("/t/<tenant>/admin/bulk", methods=["GET", "POST"], endpoint="bulk"),
        Rule("/t/<tenant>/admin/win-rates", methods=["GET"], endpoint="win_rates"),
        Rule("/t/<tenant>/admin/win-rates.csv", methods=["GET"], endpoint="win_rates_csv"),
        Rule("/t/<tenant>/admin/missing", methods=["GET", "POST"], endpoint="missing"),
        Rule("/t/<tenant>/admin/nudges/<nudge>/dismiss", methods=["POST"], endpoint="dismiss"),
    ],
    strict_slashes=False,
)


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("oie.outcomes", "templates"), autoescape=select_autoescape())


class Page:
    """One request's context: the tenant, the admin (once logged in), and how to answer."""

    def __init__(self, app: Container, request: Request, tenant: str) -> None:
        self.app, self.request, self.tenant = app, request, tenant
        self.base = f"{request.script_root}/t/{tenant}/admin"
        session = app.admin_sessions.read(tenant, request.cookies.get(app.admin_sessions.COOKIE))
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
    try:
        endpoint, args = PAGES.bind("").match(request.path, method=request.method)
    except HTTPException as exc:
        return Response(exc.description or "not found", status=exc.code or 404, mimetype="text/plain")
    app = container()
    page = Page(app, request, args["tenant"])
    if endpoint == "login":
        return _login(page)
    if page.actor is None:
        return page.redirect("/login")
    try:
        if request.method == "POST":
            page.check_csrf()
        return VIEWS[endpoint](page, dict(args))
    except Forbidden as exc:
        return page.render("message.html", status=403, title="Not allowed", message=exc.message)


def _login(page: Page) -> Response:
    if page.request.method == "GET":
        return page.render("login.html")
    try:
        actor = authenticate(page.app.api_keys, page.tenant, "Bearer " + page.request.form.get("key", ""), "admin")
    except (Unauthenticated, Forbidden):
        return page.render("login.html", status=401, error="That key is not an admin key of this tenant.")
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
    stages = page.app.warehouse.query("stage_counts", {"tenant_id": page.tenant})
    nudges = [n for n in page.app.outcome_store.nudges(page.tenant, 20) if not n.get("dismissed_at")]
    return page.render("dashboard.html", stages=stages, nudges=nudges)


def _lead(page: Page, args: dict[str, str]) -> Response:
    service = page.app.outcomes_service
    try:
        lead = service.lead(page.tenant, args["lead"])
    except NotFound:
        return page.render("message.html", status=404, title="No such lead", message="This tenant has no such lead.")
    result: dict[str, Any] = {}
    if page.request.method == "POST":
        form = page.request.form
        try:
            item = OutcomeIn.model_validate(
                {
                    "lead_id": args["lead"],
                    "outcome_type": form.get("outcome_type", ""),
                    "occurred_at": form.get("occurred_at") or None,
                    "notes": form.get("notes", ""),
                    "override": form.get("override") == "on",
                }
            )
            done = service.record(page.tenant, item, page.actor)  # type: ignore[arg-type]
            result = {"ok": f"Recorded {done.outcome.outcome_type}.", "warnings": done.warnings}
            lead = service.lead(page.tenant, args["lead"])
        except ValidationError as exc:
            first = exc.errors()[0]
            result = {"error": f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"}
        except Conflict as exc:
            result = {"error": exc.message, "blocked": True}
        except OieError as exc:
            result = {"error": f"{exc.field}: {exc.message}" if exc.field else exc.message}
    history = service.history(page.tenant, args["lead"])
    config = page.app.outcome_store.config(page.tenant)
    status = 409 if result.get("blocked") else 400 if result.get("error") else 200
    return page.render("lead.html", status=status, lead=lead, history=history, types=list(config.types), result=result)


FILTERS = ("source_key", "geo_key", "tier", "assigned_partner")


def _bulk(page: Page, args: dict[str, str]) -> Response:
    filters = {k: page.request.values.get(k, "") for k in FILTERS if page.request.values.get(k)}
    results: list[dict[str, Any]] = []
    if page.request.method == "POST":
        lead_ids = page.request.form.getlist("lead_id")
        items = [
            {
                "lead_id": lead,
                "outcome_type": page.request.form.get("outcome_type", ""),
                "notes": page.request.form.get("notes", ""),
            }
            for lead in lead_ids
        ]
        results = page.app.outcomes_service.record_many(page.tenant, items, page.actor)  # type: ignore[arg-type]
    leads = page.app.outcome_store.leads(page.tenant, filters, 500)
    types = list(page.app.outcome_store.config(page.tenant).types)
    return page.render("bulk.html", leads=leads, filters=filters, tiers=TIERS, types=types, results=results)


def _win_rate_rows(page: Page) -> tuple[WinRateQuery, list[dict[str, Any]], str]:
    by = page.request.args.get("by", "source")
    try:
        query = WinRateQuery.from_args(by, dict(page.request.args))
        return query, win_rates(page.app.warehouse, page.tenant, query, page.app.clock.now()), ""
    except InputError as exc:
        return WinRateQuery(by="source"), [], f"{exc.field}: {exc.message}"


def _win_rates(page: Page, args: dict[str, str]) -> Response:
    query, rows, error = _win_rate_rows(page)
    sort, descending = page.request.args.get("sort", "win_rate"), page.request.args.get("dir", "desc") == "desc"
    if rows and sort in rows[0]:
        rows = sorted(rows, key=lambda r: (r[sort] is None, r[sort] if r[sort] is not None else 0), reverse=descending)
        if descending:  # keep "no decided leads" at the end either way
            rows = [r for r in rows if r[sort] is not None] + [r for r in rows if r[sort] is None]
    pages = max(1, math.ceil(len(rows) / PAGE_SIZE))
    number = min(max(int(page.request.args.get("page", "1") or 1), 1), pages)
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
            raise Forbidden("quick actions are contacted or invalid", field="outcome_type")
        results = page.app.outcomes_service.record_many(page.tenant, [item], page.actor)  # type: ignore[arg-type]
    stale = page.app.outcomes_service.missing(page.tenant)
    return page.render("missing.html", stale=stale, results=results)


def _dismiss(page: Page, args: dict[str, str]) -> Response:
    actor = page.actor
    page.app.outcome_store.dismiss_nudge(page.tenant, args["nudge"], actor.label if actor else "", page.app.clock.now())
    return page.redirect("/")


VIEWS = {
    "logout": _logout,
    "dashboard": _dashboard,
    "lead": _lead,
    "bulk": _bulk,
    "win_rates": _win_rates,
    "win_rates_csv": _win_rates_csv,
    "missing": _missing,
    "dismiss": _dismiss,
}
