"""`POST /outcomes/t/{tenant}/campaigns/control`: pause, resume or stop, for any valid key of the tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from oie.http import json_response

RULES = [Rule("/t/<tenant>/campaigns/control", methods=["POST"], endpoint="campaigns.control")]


def answer(app: Any, tenant_id: str, actor: Any, body: Callable[[], Any]) -> Response:
    """200 with the scope's state (`changed: false` for a repeat); 400 names the field, 404, 409 after a stop."""
    from oie.campaigns.control import ControlRequest
    from oie.outcomes.service import input_error

    try:
        request = ControlRequest.model_validate(body())
    except ValidationError as exc:
        raise input_error(exc) from None
    who = f"key:{actor.key_id}" + (f" ({actor.label})" if actor.label else "")
    result = app.campaign_control.apply(tenant_id, request, who)
    return json_response(result.model_dump(mode="json"))
