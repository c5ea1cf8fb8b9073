"""`POST /track` (and its CORS preflight): parse, hand to the track service, answer."""

from __future__ import annotations

from flask import Request, Response

from oie import deadlines
from oie.errors import BackendUnavailable, OieError
from oie.http import cors_headers, error_response, json_response, read_body
from oie.privacy import client_ip
from oie.track.models import MAX_BODY_BYTES
from oie.track.service import RequestFacts
from oie.wiring import container


@deadlines.serving("track")
def handle(request: Request) -> Response:
    """202 when every event was stored; 400 listing the rejected ones (the rest are stored)."""
    app = container()
    origin = request.headers.get("Origin")
    try:
        known = app.origin_tenants.get(origin) is not None if origin else False
    except BackendUnavailable as exc:
        # Whose origin it is cannot be read: no CORS headers, so the pixel's fetch fails and it retries.
        return error_response(exc)
    if request.method == "OPTIONS":
        preflight = cors_headers(origin, known, "POST", preflight=True)
        return Response(status=204 if preflight else 403, headers=preflight)
    cors = cors_headers(origin, known, "POST")
    if request.method != "POST":
        return Response(status=405, headers={"Allow": "POST, OPTIONS", **cors})
    try:
        body = read_body(request, MAX_BODY_BYTES)
    except OieError as exc:
        return error_response(exc, cors)
    facts = RequestFacts(
        origin=origin,
        user_agent=request.headers.get("User-Agent", ""),
        client_ip=client_ip(
            request.headers.get("X-Forwarded-For"), request.remote_addr, app.settings.trusted_proxy_hops
        ),
        country=_header(request, "X-Client-Geo-Country"),
        region=_header(request, "X-Client-Geo-Region"),
        city=_header(request, "X-Client-Geo-City"),
    )
    try:
        result = app.track_service.accept(body, facts)
    except OieError as exc:
        return error_response(exc, cors)
    if not result.rejected:
        return json_response({"accepted": result.accepted}, status=202, headers=cors)
    first = result.rejected[0]
    return json_response(
        {
            "error": {
                "code": "invalid_input",
                "message": f"{len(result.rejected)} event(s) rejected, {result.accepted} stored: {first.message}",
                "field": first.field,
            },
            "accepted": result.accepted,
            "rejected": [r.model_dump() for r in result.rejected],
        },
        status=400,
        headers=cors,
    )


def _header(request: Request, name: str) -> str | None:
    # The load balancer sets these; bounded all the same, since a caller can send them too.
    return (request.headers.get(name) or "")[:100] or None
