"""`POST /track` (and its CORS preflight): parse, hand to the track service, answer."""

from __future__ import annotations

from flask import Request, Response

from oie.errors import OieError, PayloadTooLarge
from oie.http import cors_headers, error_response, json_response
from oie.privacy import client_ip
from oie.track.models import MAX_BODY_BYTES
from oie.track.service import RequestFacts
from oie.wiring import container


def handle(request: Request) -> Response:
    """202 when every event was stored; 400 listing the rejected ones (the rest are stored)."""
    app = container()
    origin = request.headers.get("Origin")
    cors = cors_headers(origin, app.origin_tenants.get(origin) is not None if origin else False, "POST")
    if request.method == "OPTIONS":
        return Response(status=204 if cors else 403, headers=cors)
    if request.method != "POST":
        return Response(status=405, headers={"Allow": "POST, OPTIONS", **cors})
    body = request.stream.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        return error_response(PayloadTooLarge(f"a batch is at most {MAX_BODY_BYTES} bytes", field="body"), cors)
    facts = RequestFacts(
        origin=origin,
        user_agent=request.headers.get("User-Agent", ""),
        client_ip=client_ip(
            request.headers.get("X-Forwarded-For"), request.remote_addr, app.settings.trusted_proxy_hops
        ),
        country=request.headers.get("X-Client-Geo-Country") or None,
        region=request.headers.get("X-Client-Geo-Region") or None,
        city=request.headers.get("X-Client-Geo-City") or None,
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
