"""`POST /webhooks/smartlead/{tenant}` and `POST /webhooks/instantly/{tenant}`: parse, call the service, answer."""

from __future__ import annotations

from flask import Request, Response

from oie.errors import NotFound
from oie.http import json_response, read_body
from oie.logs import get_logger
from oie.tenants.models import TENANT_ID
from oie.webhooks.sequencers.auth import offered_secret
from oie.webhooks.sequencers.models import SEQUENCERS
from oie.wiring import container

log = get_logger(__name__)
# One event per post, reply bodies included: far below this.
MAX_BODY_BYTES = 5 * 1024 * 1024


def handle(request: Request, name: str, tenant_id: str) -> Response:
    """One post of a sequencer's events; OieErrors are answered by the webhooks router."""
    sequencer = next((s for s in SEQUENCERS if s == name), None)
    if sequencer is None:
        raise NotFound(f"no webhook for {name[:40]!r}", field="path")
    if not TENANT_ID.fullmatch(tenant_id):
        # Never a Firestore path: `..`, `__x__` and the like name no tenant.
        raise NotFound("no such tenant", field="tenant_id")
    body = read_body(request, MAX_BODY_BYTES)
    receipt = container().sequencer_webhooks.receive(sequencer, tenant_id, body, offered_secret(dict(request.headers)))
    log.info(f"{sequencer} events", extra={"tenant_id": tenant_id, "sequencer": sequencer, **receipt.counts()})
    return json_response(receipt.summary())
