"""`GET /go?i=<id>[&to=<url>]`: record the click, answer 302. Never a broken page."""

from __future__ import annotations

from flask import Request, Response

from oie import deadlines
from oie.go.service import ClickRequest
from oie.logs import get_logger
from oie.privacy import client_ip
from oie.wiring import container

log = get_logger(__name__)
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@deadlines.serving("go")
def handle(request: Request) -> Response:
    """Parse the request, let the go service record it, redirect."""
    app = container()
    if request.method not in ("GET", "HEAD"):
        return Response(status=405, headers={"Allow": "GET, HEAD"})
    click = ClickRequest(
        tracking_id=request.args.get("i"),
        to=request.args.get("to"),
        method=request.method,
        host=request.host,
        user_agent=request.headers.get("User-Agent", ""),
        referrer=request.headers.get("Referer", ""),
        client_ip=client_ip(
            request.headers.get("X-Forwarded-For"),
            request.remote_addr,
            app.settings.trusted_proxy_hops,
        ),
        country=request.headers.get("X-Client-Geo-Country") or None,
    )
    try:
        location = app.go_service.click(click)
    except Exception:
        # A recipient must land somewhere even when everything behind /go is failing.
        log.exception("go failed; sending to the default landing page")
        location = str(app.settings.default_landing_url)
    return Response(status=302, headers={**HEADERS, "Location": location})
