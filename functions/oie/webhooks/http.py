"""The `webhooks` function: one entry point, five routes.

- `POST /webhooks/sendgrid/{tenant_id}`: SendGrid's signed Event Webhook
- `POST /webhooks/inbound/{tenant_id}`: SendGrid Inbound Parse (multipart form, the tenant's basic auth)
- `GET|POST /webhooks/unsubscribe?t=…`: the unsubscribe page and RFC 8058 one-click
- `POST /webhooks/smartlead/{tenant_id}`, `POST /webhooks/instantly/{tenant_id}`: their email events
  (oie.webhooks.sequencers)
"""

from __future__ import annotations

from flask import Request, Response

from oie.errors import InputError, NotFound, OieError, Unauthenticated
from oie.http import error_response, json_response, read_body
from oie.logs import get_logger
from oie.tenants.models import TENANT_ID
from oie.webhooks import pages
from oie.webhooks.events import MAX_BODY_BYTES
from oie.webhooks.inbound_auth import BasicCredentials
from oie.webhooks.sequencers import http as sequencer_http
from oie.webhooks.sequencers.models import SEQUENCERS
from oie.webhooks.signature import SIGNATURE_HEADER, TIMESTAMP_HEADER
from oie.wiring import container

log = get_logger(__name__)
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def handle(request: Request) -> Response:
    """Route by path: the function is mounted at /webhooks, locally and behind the load balancer."""
    parts = [p for p in request.path.split("/") if p]
    if parts and parts[0] == "webhooks":
        parts = parts[1:]
    try:
        if len(parts) == 2 and parts[0] == "sendgrid":
            return _only_post(request) or _events(request, parts[1])
        if len(parts) == 2 and parts[0] == "inbound":
            return _only_post(request) or _inbound(request, parts[1])
        if len(parts) == 2 and parts[0] in SEQUENCERS:
            return _only_post(request) or sequencer_http.handle(request, parts[0], parts[1])
        if parts == ["unsubscribe"]:
            return _unsubscribe(request)
        raise NotFound(f"no webhook at {request.path}", field="path")
    except OieError as exc:
        return error_response(exc)


def _only_post(request: Request) -> Response | None:
    return None if request.method == "POST" else Response(status=405, headers={"Allow": "POST"})


def _events(request: Request, tenant_id: str) -> Response:
    if not TENANT_ID.fullmatch(tenant_id):
        # Never a Firestore path: `..`, `__x__` and the like name no tenant.
        raise NotFound("no such tenant", field="tenant_id")
    body = read_body(request, MAX_BODY_BYTES)
    receipt = container().event_webhooks.receive(
        tenant_id, body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
    )
    log.info("sendgrid events", extra={"tenant_id": tenant_id, **receipt.counts(), "error": receipt.error})
    return json_response(receipt.summary())


def _inbound(request: Request, tenant_id: str) -> Response:
    read_body(request, MAX_BODY_BYTES)  # bounded even when chunked; request.form reads these bytes
    auth = request.authorization
    credentials = (
        BasicCredentials(username=auth.username or "", password=auth.password or "")
        if auth is not None and auth.type == "basic"
        else None
    )
    form = {k: v for k, v in request.form.items()}
    try:
        result = container().inbound_replies.receive(
            tenant_id, credentials, form, legacy_token=request.args.get("token")
        )
    except Unauthenticated as exc:
        response = error_response(exc)
        response.headers["WWW-Authenticate"] = 'Basic realm="inbound-parse"'
        return response
    log.info("inbound message", extra={"tenant_id": tenant_id, **result})
    return json_response(result)


def _unsubscribe(request: Request) -> Response:
    service = container().unsubscribes
    token = request.args.get("t") or request.form.get("t")
    try:
        if request.method == "GET":
            service.check(token)
            return Response(pages.confirm(token or ""), mimetype="text/html", headers=PAGE_HEADERS)
        if request.method != "POST":
            return Response(status=405, headers={"Allow": "GET, POST"})
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        service.unsubscribe(token, "one_click" if one_click else "link")
    except InputError:
        return Response(pages.invalid(), status=400, mimetype="text/html", headers=PAGE_HEADERS)
    return Response(pages.done(), mimetype="text/html", headers=PAGE_HEADERS)
