"""Shared HTTP helpers: JSON responses and the JSON error envelope."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

from oie.errors import OieError, status_for


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json", headers=headers)


def error_response(error: OieError, headers: dict[str, str] | None = None) -> Response:
    """The documented error envelope for a service error."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field is not None:
        body["field"] = error.field
    return json_response({"error": body}, status=status_for(error), headers=headers)


def cors_headers(origin: str | None, allowed: bool, methods: str) -> dict[str, str]:
    """CORS headers for an allowed origin (echoed, never `*`); none for any other."""
    if not origin or not allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": f"{methods}, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
