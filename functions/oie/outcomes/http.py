"""The `outcomes` function: the JSON API at /t/{tenant}/… and the admin pages at /t/{tenant}/admin/…"""

from __future__ import annotations

import logging
from typing import Any

from flask import Request, Response
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from oie import deadlines, doc_ids, json_input
from oie.campaigns.api import RULES as CAMPAIGN_RULES
from oie.configuration.api import RULES as SETTINGS_RULES
from oie.console.http import RULES as CONSOLE_RULES
from oie.errors import BackendUnavailable, InputError, NotFound, OieError
from oie.http import error_response, json_response, read_body
from oie.outcomes.auth import Scope, authenticate
from oie.outcomes.models import OutcomeIn
from oie.outcomes.service import clean_attributes, input_error
from oie.outcomes.win_rates import WinRateQuery, to_csv, win_rates
from oie.wiring import Container, container

API = Map(
    [
        Rule("/t/<tenant>/outcomes", methods=["POST"], endpoint="record"),
        Rule("/t/<tenant>/outcomes/bulk", methods=["POST"], endpoint="record_bulk"),
        Rule("/t/<tenant>/leads/<lead>", methods=["GET"], endpoint="lead"),
        Rule("/t/<tenant>/leads/<lead>", methods=["PATCH"], endpoint="set_attributes"),
        Rule("/t/<tenant>/leads/<lead>/outcomes", methods=["GET"], endpoint="history"),
        Rule("/t/<tenant>/win-rates/export", methods=["GET"], endpoint="export"),
        Rule("/t/<tenant>/win-rates/by-<by>", methods=["GET"], endpoint="win_rates"),
        Rule("/t/<tenant>/admin/outcomes/missing", methods=["GET"], endpoint="missing"),
        Rule("/t/<tenant>/admin/outcomes/bulk-update", methods=["POST"], endpoint="bulk_update"),
        *SETTINGS_RULES,  # oie.configuration.api: every one needs an admin key
        *CONSOLE_RULES,  # oie.console.http: hot leads and a lead's timeline
        *CAMPAIGN_RULES,  # oie.campaigns.api: pause / resume / stop
    ],
    strict_slashes=False,
)
SCOPE: dict[str, Scope] = {
    "record": "outcomes:write",
    "record_bulk": "outcomes:write",
    "set_attributes": "outcomes:write",
    "lead": "outcomes:read",
    "history": "outcomes:read",
    "export": "outcomes:read",
    "win_rates": "outcomes:read",
    "missing": "admin",
    "bulk_update": "admin",
    **{str(rule.endpoint): "admin" for rule in SETTINGS_RULES},
    **{str(rule.endpoint): "outcomes:read" for rule in CONSOLE_RULES},
    # Any key that may write for the tenant (an SDR's too) may pause; role checks live in auth.py.
    **{str(rule.endpoint): "outcomes:write" for rule in CAMPAIGN_RULES},
}


log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # one outcome or a lead's attributes: notes of 2000 characters fit many times over
MAX_BULK_BODY = 2 * 1024 * 1024  # 500 outcomes with long notes
RETRY_AFTER = "5"


def _json(request: Request, limit: int = MAX_BODY) -> Any:
    # Never a 500 for any bytes: not UTF-8, not JSON, nested until RecursionError are a 400 (`body`).
    # NaN and Infinity decode, so one bulk item carrying them fails alone, on its own field.
    return json_input.loads(read_body(request, limit))


@deadlines.serving("outcomes")
def handle(request: Request) -> Response:
    """Route, authenticate for the path's tenant, call the outcomes service."""
    # /t/{t}/admin/… is the pages, except the admin API under /t/{t}/admin/outcomes/ (by segment:
    # a tenant may be called "admin").
    segments = request.path.split("/")
    if segments[1:2] == ["t"] and segments[3:4] == ["admin"] and segments[4:5] != ["outcomes"]:
        from oie.outcomes.pages import handle as pages

        page: Response = pages(request)
        return page
    adapter = API.bind("", path_info=request.path)
    try:
        endpoint, args = adapter.match(request.path, method=request.method)
    except HTTPException as exc:
        code = "not_found" if exc.code == 404 else "method_not_allowed"
        return json_response({"error": {"code": code, "message": exc.description or ""}}, status=exc.code or 404)
    # Path ids become document ids: a malformed one names no document, so it is "not found".
    if not doc_ids.is_valid("tenant_id", args["tenant"]):
        return error_response(NotFound("no such tenant", field="tenant_id"))
    if "lead" in args and not doc_ids.is_valid("lead_id", args["lead"]):
        return error_response(NotFound("no such lead", field="lead_id"))
    app = container()
    try:
        actor = authenticate(app.api_keys, args["tenant"], request.headers.get("Authorization"), SCOPE[endpoint])
        return _dispatch(app, endpoint, dict(args), request, actor)
    except BackendUnavailable as exc:
        log.warning("outcomes: backend unavailable: %s", exc.message)
        unavailable = BackendUnavailable("the outcomes backend is unavailable right now; retry in a few seconds")
        return error_response(unavailable, headers={"Retry-After": RETRY_AFTER})
    except OieError as exc:
        return error_response(exc)


def _dispatch(app: Container, endpoint: str, args: dict[str, str], request: Request, actor: Any) -> Response:
    service, tenant = app.outcomes_service, args["tenant"]
    if endpoint.startswith("console."):
        from oie.console.http import answer

        return answer(app, endpoint, args, request)
    if endpoint == "campaigns.control":
        from oie.campaigns.api import answer as campaign_control

        return campaign_control(app, tenant, actor, lambda: _json(request))
    if endpoint.startswith("settings."):
        from oie.configuration.api import dispatch

        return dispatch(app, endpoint, tenant, request, actor, lambda: _json(request))
    if endpoint == "record":
        try:
            item = OutcomeIn.model_validate(_json(request))
        except ValidationError as exc:
            raise input_error(exc) from None
        done = service.record(tenant, item, actor)
        body = {"outcome": done.outcome.model_dump(mode="json"), "warnings": done.warnings}
        return json_response(body, status=201 if done.created else 200)
    if endpoint == "record_bulk":
        payload = _json(request, MAX_BULK_BODY)
        items = payload.get("outcomes") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise InputError('send {"outcomes": [...]}', field="outcomes")
        return json_response({"results": service.record_many(tenant, items, actor)})
    if endpoint == "lead":
        return json_response(service.lead(tenant, args["lead"]))
    if endpoint == "history":
        return json_response({"outcomes": service.history(tenant, args["lead"])})
    if endpoint == "set_attributes":
        payload = _json(request)
        if not isinstance(payload, dict):
            raise InputError("send an object of attributes", field="body")
        if not app.outcome_store.set_attributes(tenant, args["lead"], clean_attributes(payload)):
            raise NotFound("no such lead", field="lead_id")
        return json_response(service.lead(tenant, args["lead"]))
    if endpoint in ("win_rates", "export"):
        by = args.get("by") or request.args.get("by", "source")
        query = WinRateQuery.from_args(by, dict(request.args))
        rows = win_rates(app.warehouse, tenant, query, app.clock.now())
        if endpoint == "export":
            return Response(
                to_csv(rows),
                mimetype="text/csv",
                headers={"Content-Disposition": f"attachment; filename=win-rates-by-{by}.csv"},
            )
        return json_response({"by": by, "weeks": query.weeks, "rows": rows})
    if endpoint == "missing":
        return json_response({"leads": service.missing(tenant)})
    payload = _json(request, MAX_BULK_BODY)  # bulk_update
    if not isinstance(payload, dict) or not isinstance(payload.get("lead_ids"), list):
        raise InputError('send {"lead_ids": [...], "outcome_type": ...}', field="lead_ids")
    shared = {k: v for k, v in payload.items() if k in ("outcome_type", "occurred_at", "notes")}
    return json_response(
        {"results": service.record_many(tenant, [{**shared, "lead_id": lead} for lead in payload["lead_ids"]], actor)}
    )
