"""The `outcomes` function: the JSON API at /t/{tenant}/… and the admin pages at /t/{tenant}/admin/…"""

from __future__ import annotations

import json
from typing import Any

from flask import Request, Response
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from oie.errors import InputError, OieError
from oie.http import error_response, json_response
from oie.outcomes.auth import Scope, authenticate
from oie.outcomes.models import OutcomeIn
from oie.outcomes.service import clean_attributes
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
}


def _json(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"null")
    except json.JSONDecodeError as exc:
        raise InputError(f"body is not JSON: {exc}", field="body") from None


def handle(request: Request) -> Response:
    """Route, authenticate for the path's tenant, call the outcomes service."""
    if "/admin/" in request.path and not request.path.split("/admin/", 1)[1].startswith("outcomes/"):
        from oie.outcomes.pages import handle as pages

        page: Response = pages(request)
        return page
    adapter = API.bind("", path_info=request.path)
    try:
        endpoint, args = adapter.match(request.path, method=request.method)
    except HTTPException as exc:
        code = "not_found" if exc.code == 404 else "method_not_allowed"
        return json_response({"error": {"code": code, "message": exc.description or ""}}, status=exc.code or 404)
    app = container()
    try:
        actor = authenticate(app.api_keys, args["tenant"], request.headers.get("Authorization"), SCOPE[endpoint])
        return _dispatch(app, endpoint, dict(args), request, actor)
    except OieError as exc:
        return error_response(exc)


def _dispatch(app: Container, endpoint: str, args: dict[str, str], request: Request, actor: Any) -> Response:
    service, tenant = app.outcomes_service, args["tenant"]
    if endpoint == "record":
        try:
            item = OutcomeIn.model_validate(_json(request))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputError(first["msg"], field=".".join(str(p) for p in first["loc"]) or "body") from None
        done = service.record(tenant, item, actor)
        body = {"outcome": done.outcome.model_dump(mode="json"), "warnings": done.warnings}
        return json_response(body, status=201 if done.created else 200)
    if endpoint == "record_bulk":
        payload = _json(request)
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
            from oie.errors import NotFound

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
    payload = _json(request)  # bulk_update
    if not isinstance(payload, dict) or not isinstance(payload.get("lead_ids"), list):
        raise InputError('send {"lead_ids": [...], "outcome_type": ...}', field="lead_ids")
    shared = {k: v for k, v in payload.items() if k in ("outcome_type", "occurred_at", "notes")}
    return json_response(
        {"results": service.record_many(tenant, [{**shared, "lead_id": lead} for lead in payload["lead_ids"]], actor)}
    )
