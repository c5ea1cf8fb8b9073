"""`GET /personalize?tenant=…&vid=…&tok=…`: 200 with the profile (`{}` for unknown visitors)."""

from __future__ import annotations

from flask import Request, Response

from oie import deadlines
from oie.errors import BackendUnavailable, InputError, OieError
from oie.http import cors_headers, error_response, json_response
from oie.identity.tokens import VISITOR_ID
from oie.tenants.models import TENANT_ID
from oie.wiring import container


@deadlines.serving("personalize")
def handle(request: Request) -> Response:
    app = container()
    origin = request.headers.get("Origin")
    try:
        known = app.origin_tenants.get(origin) is not None if origin else False
    except BackendUnavailable as exc:
        return error_response(exc)  # no CORS headers: the page keeps its generic content
    if request.method == "OPTIONS":
        preflight = cors_headers(origin, known, "GET", preflight=True)
        return Response(status=204 if preflight else 403, headers=preflight)
    cors = cors_headers(origin, known, "GET")
    if request.method != "GET":
        return Response(status=405, headers={"Allow": "GET, OPTIONS", **cors})
    tenant_id, visitor_id = request.args.get("tenant", ""), request.args.get("vid", "")
    try:
        if not TENANT_ID.match(tenant_id):
            raise InputError("tenant must be a tenant id", field="tenant")
        if not VISITOR_ID.match(visitor_id):
            raise InputError("vid must be 8-64 letters, digits, - or _", field="vid")
        profile = app.personalize_service.profile(tenant_id, visitor_id, request.args.get("tok"))
    except OieError as exc:
        return error_response(exc, cors)
    return json_response(profile, headers={**cors, "Cache-Control": "private, no-store"})
