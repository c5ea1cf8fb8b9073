"""The dev gateway: every function mounted at its own path on one port, as the load balancer does."""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import functions_framework
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Request, Response

from oie.wiring import container

FUNCTIONS = ("go", "track", "personalize", "outcomes", "webhooks", "campaign_step", "jobs")
MAIN = Path(__file__).resolve().parents[2] / "main.py"
PIXEL_DIST = Path(__file__).resolve().parents[3] / "pixel" / "dist"
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _asset(name: str) -> str:
    return resources.files("oie.devstack").joinpath("assets", name).read_text()


def _page(title: str, body: str) -> Response:
    return Response(
        _asset("page.html").replace("{{title}}", html.escape(title)).replace("{{body}}", body),
        mimetype="text/html",
    )


def _clicks_page(tenant_id: str) -> Response:
    rows = container().warehouse.query("recent_clicks", {"tenant_id": tenant_id, "limit_rows": 50})
    cells = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(r[c]))}</td>"
            for c in (
                "clicked_at",
                "tracking_id",
                "lead_id",
                "campaign_id",
                "is_bot",
                "bot_reasons",
                "target_url",
            )
        )
        + "</tr>"
        for r in rows
    )
    head = "".join(f"<th>{c}</th>" for c in ("clicked at", "tracking id", "lead", "campaign", "bot", "why", "sent to"))
    return _page(
        "Clicks in the warehouse",
        f"<p>The latest clicks of tenant <b>{html.escape(tenant_id)}</b>, read from the warehouse "
        f"table <code>email_clicks</code>.</p><table><tr>{head}</tr>{cells}</table>",
    )


def root_app(index_html: Callable[[], str]) -> WSGIApp:
    """Pages that exist only locally: the index, the demo site, the pixel files, dev views."""

    @Request.application
    def app(request: Request) -> Response:
        path = request.path
        if path == "/":
            return _page("Outbound Intent Engine — local", index_html())
        if path in ("/demo", "/demo/"):
            return Response(_asset("demo.html"), mimetype="text/html")
        if path == "/_dev/clicks":
            return _clicks_page(request.args.get("tenant", "demo"))
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


def build_gateway(index_html: Callable[[], str] = lambda: "") -> WSGIApp:
    """One WSGI app: each Cloud Function at /<name>, the local pages at /."""
    mounts = {f"/{name}": _at_root(functions_framework.create_app(target=name, source=str(MAIN))) for name in FUNCTIONS}
    return DispatcherMiddleware(root_app(index_html), mounts)
