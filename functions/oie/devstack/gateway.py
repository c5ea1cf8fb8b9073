"""The dev gateway: every function mounted at its own path on one port, as the load balancer does."""

from __future__ import annotations

import html
import json
import mimetypes
import os
import re
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import functions_framework
from jinja2 import Environment, PackageLoader, select_autoescape
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from oie import deadlines
from oie.wiring import container

FUNCTIONS = ("go", "track", "personalize", "outcomes", "webhooks", "campaign_step", "campaign_plan", "jobs")
MAIN = Path(__file__).resolve().parents[2] / "main.py"
PIXEL_DIST = Path(__file__).resolve().parents[3] / "pixel" / "dist"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _asset(name: str) -> str:
    return resources.files("oie.devstack").joinpath("assets", name).read_text()


@cache
def _demo_site() -> Environment:
    # The demo pages extend one layout (demo_layout.html): head, pixel tags and navigation.
    loader = PackageLoader("oie.devstack", "assets")
    return Environment(loader=loader, autoescape=select_autoescape(), trim_blocks=True, keep_trailing_newline=True)


def _demo_page(name: str) -> Response:
    return Response(_demo_site().get_template(name).render(), mimetype="text/html")


def _page(title: str, body: str) -> Response:
    return Response(
        _asset("page.html").replace("{{title}}", html.escape(title)).replace("{{body}}", body),
        mimetype="text/html",
    )


def _table(query: str, tenant_id: str, columns: tuple[str, ...]) -> str:
    rows = container().warehouse.query(query, {"tenant_id": tenant_id, "limit_rows": 100})
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _clicks_page(tenant_id: str) -> Response:
    columns = ("clicked_at", "tracking_id", "lead_id", "campaign_id", "is_bot", "bot_reasons", "target_url")
    return _page(
        "Clicks in the warehouse",
        f"<p>The latest clicks of tenant <b>{html.escape(tenant_id)}</b>, read from the warehouse table "
        f"<code>email_clicks</code>.</p>" + _table("recent_clicks", tenant_id, columns),
    )


def _events_page(tenant_id: str) -> Response:
    columns = (
        "occurred_at",
        "event_type",
        "lead_id",
        "session_id",
        "identity_status",
        "page_path",
        "company_name",
        "is_bot",
        "props",
    )
    return _page(
        "Pixel events in the warehouse",
        f"<p>The latest events of tenant <b>{html.escape(tenant_id)}</b> from the view "
        f"<code>events_identified</code> (table <code>events</code>, tied to leads by their tracking id).</p>"
        + _table("recent_events", tenant_id, columns),
    )


# The demo site's pages; their paths match the default page rules (pricing, product, case studies).
DEMO_PAGES = ("pricing", "product", "case-studies")

# Alerts the local receiver got, newest last (the dev stack's stand-in for Slack or a CRM).
ALERT_INBOX: deque[dict[str, Any]] = deque(maxlen=200)


def _receive_alert(request: Request) -> Response:
    from oie.alerts.payload import verify
    from oie.alerts.service import alert_signing_key

    body = request.get_data()
    alert = json.loads(body)
    app = container()
    tenant = app.tenants.get(str(alert.get("tenant_id", "")))
    valid = tenant is not None and verify(alert_signing_key(app.secrets, tenant), body, dict(request.headers.items()))
    ALERT_INBOX.append({"received_at": datetime.now(UTC).isoformat(timespec="seconds"), "signature": valid, **alert})
    return Response(status=204 if valid else 401)


DEMO_JOBS = ("sessionize", "score", "hot_lead_alerts")


def _run_jobs() -> Response:
    """What the scheduler does every few minutes, now: sessions, scores, personalization, alerts."""
    from oie.jobs.runner import run_job

    app = container()
    for name in DEMO_JOBS:
        run_job(name, app)
    return Response(status=303, headers={"Location": "/_dev/leads"})


def _leads_page(tenant_id: str) -> Response:
    app = container()
    rows = app.warehouse.query("lead_scores", {"tenant_id": tenant_id, "limit_rows": 100})
    cells = []
    for r in rows:
        lead = app.leads.get(tenant_id, r["lead_id"])
        who = f"{lead.first_name} {lead.last_name} ({lead.company})" if lead else r["lead_id"]
        why = ", ".join(
            f"{k.removesuffix('_points')} {float(r[k]):g}"
            for k in (
                "recency_points",
                "frequency_points",
                "engagement_points",
                "high_intent_points",
                "conversion_points",
            )
        )
        cells.append(
            f"<tr><td>{html.escape(who)}</td><td><b>{float(r['score']):g}</b></td>"
            f"<td>{html.escape(r['level'])}</td><td>{html.escape(why)}</td><td>{r['sessions']}</td>"
            f"<td>{html.escape(str(r['last_activity_at']))}</td></tr>"
        )
    return _page(
        "Lead scores",
        '<form method="post" action="/_dev/run-jobs"><button>Run sessionize, score and alerts now</button> '
        "(Cloud Scheduler runs them every 5 and 15 minutes)</form>"
        f"<p>From <code>lead_profiles</code>: score and its components, so anyone can see why a lead is hot.</p>"
        "<table><tr><th>lead</th><th>score</th><th>level</th><th>why</th><th>sessions</th><th>last activity</th>"
        f"</tr>{''.join(cells)}</table>",
    )


def _alerts_page() -> Response:
    from oie.alerts.payload import describe

    rows = "".join(
        f"<tr><td>{html.escape(a['received_at'])}</td><td>{'valid' if a['signature'] else 'INVALID'}</td>"
        f"<td>{html.escape(describe(a))}</td></tr>"
        for a in reversed(ALERT_INBOX)
    )
    return _page(
        "Hot-lead alerts received",
        "<p>The local webhook receiver: the demo tenant's alert channel posts here (signed, HMAC-SHA256).</p>"
        f"<table><tr><th>received</th><th>signature</th><th>alert</th></tr>{rows}</table>",
    )


def _outbox_page(name: str | None) -> Response:
    """The local mailer's messages: a list, or one message with its headers and text."""
    import email
    from email import policy

    folder = container().settings.outbox_dir
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []
    if name:
        match = next((f for f in files if f.name == name), None)
        if match is None:
            return Response("not found", status=404)
        message = email.message_from_bytes(match.read_bytes(), policy=policy.default)
        headers = "".join(
            f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in message.items()
        )
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        linked = re.sub(r"(https?://[^\s<>\"]+)", r'<a href="\1">\1</a>', html.escape(text))
        return _page(
            str(message["Subject"]), f"<table>{headers}</table><pre style='white-space:pre-wrap'>{linked}</pre>"
        )
    rows = []
    for f in files[:200]:
        message = email.message_from_bytes(f.read_bytes(), policy=policy.default)
        rows.append(
            f"<tr><td>{html.escape(str(message['Date'] or ''))}</td><td>{html.escape(str(message['To']))}</td>"
            f"<td><a href='/_dev/outbox/{html.escape(f.name)}'>{html.escape(str(message['Subject']))}</a></td>"
            f"<td><code>{html.escape(f.stem)}</code></td></tr>"
        )
    return _page(
        "Outbox",
        "<p>Every email the local mailer sent, newest first (SendGrid in production).</p>"
        "<table><tr><th>date</th><th>to</th><th>subject</th><th>message id</th></tr>"
        f"{''.join(rows)}</table>",
    )


def root_app(index_html: Callable[[], str]) -> WSGIApp:
    """Pages that exist only locally: the index, the demo site, the pixel files, dev views."""

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        if path == "/":
            return _page("Outbound Intent Engine — local", index_html())
        if path in ("/demo", "/demo/"):
            return _demo_page("demo.html")
        if (name := path.removeprefix("/demo/")) in DEMO_PAGES:  # each a page of its own
            return _demo_page(f"demo-{name}.html")
        if path == "/_dev/clicks":
            return _clicks_page(request.args.get("tenant", "demo"))
        if path == "/_dev/alert-inbox" and request.method == "POST":
            return _receive_alert(request)
        if path == "/_dev/outbox" or path.startswith("/_dev/outbox/"):
            return _outbox_page(path.removeprefix("/_dev/outbox").strip("/") or None)
        if path == "/_dev/alerts":
            return _alerts_page()
        if path == "/_dev/run-jobs" and request.method == "POST":
            return _run_jobs()
        if path == "/_dev/leads":
            return _leads_page(request.args.get("tenant", "demo"))
        if path == "/_dev/events":
            return _events_page(request.args.get("tenant", "demo"))
        if path == "/demo/demo.webm":
            clip = resources.files("oie.devstack").joinpath("assets", "demo.webm").read_bytes()
            return Response(clip, mimetype="video/webm")
        if path.startswith("/static/"):
            file = (PIXEL_DIST / path.removeprefix("/static/")).resolve()
            if file.parent == PIXEL_DIST.resolve() and file.is_file():
                return Response(
                    file.read_bytes(),
                    mimetype=mimetypes.guess_type(file.name)[0] or "text/plain",
                    headers={"Cache-Control": "no-cache"},
                )
        return Response("not found", status=404)

    return app


def _at_root(function: WSGIApp) -> WSGIApp:
    """Serve a mounted function at its bare path (`/go`, not `/go/`), as in production."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not environ.get("PATH_INFO"):
            environ["PATH_INFO"] = "/"
        return function(environ, start_response)

    return app


def build_gateway(index_html: Callable[[], str] = lambda: "", extra: dict[str, WSGIApp] | None = None) -> WSGIApp:
    """One WSGI app: each Cloud Function at /<name>, the local pages at /, and any `extra` mounts."""
    # functions-framework records each target in FUNCTION_TARGET; one process serves them all
    # here, so the variable is put back and each mount runs under its own function's deadlines.
    previous = os.environ.get("FUNCTION_TARGET")
    try:
        mounts = {
            f"/{name}": _at_root(deadlines.serving(name)(functions_framework.create_app(target=name, source=str(MAIN))))
            for name in FUNCTIONS
        }
    finally:
        if previous is None:
            os.environ.pop("FUNCTION_TARGET", None)
        else:
            os.environ["FUNCTION_TARGET"] = previous
    mounts.update({path: _at_root(app) for path, app in (extra or {}).items()})
    return DispatcherMiddleware(root_app(index_html), mounts)
