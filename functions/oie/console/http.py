"""The console's JSON endpoints, served by the outcomes function under /t/{tenant}/…"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import Request, Response
from pydantic import ValidationError
from werkzeug.routing import Rule

from oie.console.models import HotLeadsQuery
from oie.errors import InputError
from oie.http import json_response
from oie.outcomes.service import input_error

if TYPE_CHECKING:
    from oie.wiring import Container

# Registered in oie.outcomes.http; reading leads needs the outcomes:read scope (a member key).
RULES = (
    Rule("/t/<tenant>/hot-leads", methods=["GET"], endpoint="console.hot_leads"),
    Rule("/t/<tenant>/leads/<lead>/timeline", methods=["GET"], endpoint="console.timeline"),
)
_AGO = re.compile(r"([0-9]{1,4})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def _since(raw: str, now: datetime) -> str:
    """`since` as a time: ISO 8601 with a zone, or a span back from now (`15m`, `24h`, `7d`)."""
    if match := _AGO.fullmatch(raw.strip()):
        return (now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})).isoformat()
    return raw


def hot_leads_query(args: Any, now: datetime) -> HotLeadsQuery:
    """The query string as filters; a bad value is an InputError naming its field."""
    fields: dict[str, Any] = {}
    for name in args:
        values = args.getlist(name)
        if name == "level":
            fields[name] = [level for value in values for level in value.split(",") if level]
        elif len(values) > 1:
            raise InputError(f"{name} is given once", field=name)
        else:
            fields[name] = _since(values[0], now) if name == "since" else values[0]
    try:
        return HotLeadsQuery.model_validate(fields)
    except ValidationError as exc:
        raise input_error(exc, whole="query") from None


def answer(app: Container, endpoint: str, args: dict[str, str], request: Request) -> Response:
    service = app.console_service
    if endpoint == "console.hot_leads":
        query = hot_leads_query(request.args, app.clock.now())
        return json_response(service.hot_leads(args["tenant"], query).model_dump(mode="json"))
    return json_response(service.timeline(args["tenant"], args["lead"]).model_dump(mode="json"))
