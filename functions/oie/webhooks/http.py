"""The `webhooks` function: one entry point, three routes.

- `POST /webhooks/sendgrid/{tenant_id}`: SendGrid's signed Event Webhook
- `POST /webhooks/inbound/{tenant_id}?token=…`: SendGrid Inbound Parse (multipart form)
- `GET|POST /webhooks/unsubscribe?t=…`: the unsubscribe page and RFC 8058 one-click
"""

from __future__ import annotations

from flask import Request, Response

from oie.errors import InputError, NotFound, OieError, PayloadTooLarge
from oie.http import error_response, json_response
from oie.logs import get_logger
from oie.webhooks import pages
from oie.webhooks.events import MAX_BODY_BYTES
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
        if parts == ["unsubscribe"]:
            return _unsubscribe(request)
        raise NotFound(f"no webhook at {request.path}", field="path")
    except OieError as exc:
        return error_response(exc)


def _only_post(request: Request) -> Response | None:
    return None if request.method == "POST" else Response(status=405, headers={"Allow": "POST"})


def _events(request: Request, tenant_id: str) -> Response:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"a delivery is at most {MAX_BODY_BYTES} bytes", field="body")
    body = request.get_data(cache=False)
    receipt = container().event_webhooks.receive(
        tenant_id, body, request.headers.get(SIGNATURE_HEADER), request.headers.get(TIMESTAMP_HEADER)
    )
    log.info("sendgrid events", extra={"tenant_id": tenant_id, **receipt.summary(), "ignored": len(receipt.ignored)})
    return json_response(receipt.summary())


def _inbound(request: Request, tenant_id: str) -> Response:
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"an inbound message is at most {MAX_BODY_BYTES} bytes", field="body")
    form = {k: v for k, v in request.form.items()}
    result = container().inbound_replies.receive(tenant_id, request.args.get("token"), form)
    log.info("inbound message", extra={"tenant_id": tenant_id, **result})
    return json_response(result)


def _unsubscribe(request: Request) -> Response:
    service = container().unsubscribes
    token = request.args.get("t") or request.form.get("t")
    try:
        if request.method == "GET":
            claim = service.check(token)
            return Response(pages.confirm(token or "", claim.address), mimetype="text/html", headers=PAGE_HEADERS)
        if request.method != "POST":
            return Response(status=405, headers={"Allow": "GET, POST"})
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        claim = service.unsubscribe(token, "one_click" if one_click else "link")
    except InputError:
        return Response(pages.invalid(), status=400, mimetype="text/html", headers=PAGE_HEADERS)
    return Response(pages.done(claim.address), mimetype="text/html", headers=PAGE_HEADERS)
