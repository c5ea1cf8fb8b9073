"""The settings JSON API under /t/{tenant}/settings/…: routes, bodies validated by the models.

oie.outcomes.http routes and authenticates (every route here needs an admin key); this module
turns a request into one call of the settings service.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request, Response
from pydantic import BaseModel, ValidationError
from werkzeug.routing import Rule

from oie.errors import InputError
from oie.http import json_response
from oie.outcomes.auth import Actor

M = TypeVar("M", bound=BaseModel)
_BASE = "/t/<tenant>/settings"
RULES = [
    Rule(f"{_BASE}/tenant", methods=["GET"], endpoint="settings.tenant"),
    Rule(f"{_BASE}/tenant", methods=["PATCH"], endpoint="settings.tenant_update"),
    Rule(f"{_BASE}/limits", methods=["GET"], endpoint="settings.limits"),
    Rule(f"{_BASE}/limits", methods=["PUT"], endpoint="settings.limits_set"),
    Rule(f"{_BASE}/senders", methods=["GET"], endpoint="settings.senders"),
    Rule(f"{_BASE}/senders", methods=["POST"], endpoint="settings.sender_add"),
    Rule(f"{_BASE}/senders", methods=["DELETE"], endpoint="settings.sender_remove"),
    Rule(f"{_BASE}/alert-channels", methods=["GET"], endpoint="settings.alerts"),
    Rule(f"{_BASE}/alert-channels", methods=["POST"], endpoint="settings.alert_add"),
    Rule(f"{_BASE}/alert-channels", methods=["DELETE"], endpoint="settings.alert_remove"),
    Rule(f"{_BASE}/alert-channels/test", methods=["POST"], endpoint="settings.alert_test"),
    Rule(f"{_BASE}/scoring", methods=["GET"], endpoint="settings.scoring"),
    Rule(f"{_BASE}/scoring", methods=["PUT"], endpoint="settings.scoring_set"),
    Rule(f"{_BASE}/scoring/preview", methods=["POST"], endpoint="settings.scoring_preview"),
    Rule(f"{_BASE}/keys", methods=["GET"], endpoint="settings.keys"),
    Rule(f"{_BASE}/keys", methods=["POST"], endpoint="settings.key_create"),
    Rule(f"{_BASE}/keys", methods=["DELETE"], endpoint="settings.key_revoke"),
    Rule(f"{_BASE}/log", methods=["GET"], endpoint="settings.log"),
]


def _body(load: Callable[[], Any], model: type[M]) -> M:
    from oie.outcomes.service import input_error

    try:
        return model.model_validate(load())
    except ValidationError as exc:
        raise input_error(exc) from None


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name, "")
    if not value:
        raise InputError(f"name it in the query: ?{name}=…", field=name)
    return value


def dispatch(app: Any, endpoint: str, tenant: str, request: Request, actor: Actor, load: Callable[[], Any]) -> Response:
    """One settings operation; `load` reads the JSON body (bounded, never a 500 for any bytes)."""
    from oie.configuration import models

    service, name = app.settings_service, endpoint.removeprefix("settings.")
    senders, keys, scoring = app.sender_settings, app.key_settings, app.scoring_settings
    if name == "tenant":
        return json_response(service.tenant_settings(tenant, actor))
    if name == "tenant_update":
        return json_response(service.update_tenant_settings(tenant, _body(load, models.TenantSettingsIn), actor))
    if name == "limits":
        return json_response(service.limits(tenant, actor).model_dump(exclude={"tenant_shards"}))
    if name == "limits_set":
        saved = service.set_limits(tenant, _body(load, models.LimitsIn), actor)
        return json_response(saved.model_dump(exclude={"tenant_shards"}))
    if name == "senders":
        return json_response({"senders": senders.senders_of(tenant, actor)})
    if name == "sender_add":
        return json_response(senders.add_sender(tenant, _body(load, models.SenderIn), actor), status=201)
    if name == "sender_remove":
        senders.remove_sender(tenant, _arg(request, "sender_id"), actor)
        return json_response({"removed": request.args["sender_id"]})
    if name == "alerts":
        return json_response({"alert_channels": service.alert_channels(tenant, actor)})
    if name == "alert_add":
        return json_response(service.add_alert_channel(tenant, _body(load, models.AlertChannelIn), actor), status=201)
    if name == "alert_remove":
        service.remove_alert_channel(tenant, _arg(request, "channel_id"), actor)
        return json_response({"removed": request.args["channel_id"]})
    if name == "alert_test":
        result = service.test_alert_channel(tenant, _body(load, models.ChannelRef).channel_id, actor)
        return json_response(result, status=200 if result["delivered"] else 502)
    if name == "scoring":
        return json_response(scoring.show(tenant, actor))
    if name == "scoring_set":
        return json_response(scoring.set(tenant, _body(load, models.ScoringIn), actor))
    if name == "scoring_preview":
        return json_response(scoring.preview(tenant, _body(load, models.ScoringIn), actor))
    if name == "keys":
        return json_response({"keys": keys.api_keys(tenant, actor)})
    if name == "key_create":
        return json_response(keys.create_api_key(tenant, _body(load, models.KeyIn), actor), status=201)
    if name == "key_revoke":
        keys.revoke_api_key(tenant, _arg(request, "key_id"), actor)
        return json_response({"revoked": request.args["key_id"]})
    limit = request.args.get("limit", "50")
    if not re.fullmatch(r"[0-9]{1,4}", limit):
        raise InputError("a number of entries, 1 to 200", field="limit")
    changes = service.changes(tenant, actor, int(limit))
    return json_response({"changes": [c.model_dump(mode="json") for c in changes]})
