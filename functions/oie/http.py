"""Shared HTTP helpers: bounded request bodies, JSON responses and the JSON error envelope."""

from __future__ import annotations

import json
from typing import Any

from flask import Request, Response
from werkzeug.exceptions import ClientDisconnected

from oie.errors import InputError, OieError, PayloadTooLarge, status_for

_READ_CHUNK = 64 * 1024


def read_body(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes, with or without Content-Length; PayloadTooLarge beyond.

    A chunked upload has no Content-Length to check up front, so at most `limit + 1` bytes are
    read and one byte too many refuses it. Afterwards `request.get_data()`, `get_json()` and
    `request.form` read the same bytes again.
    """
    length = request.content_length
    if length is not None and length > limit:
        raise PayloadTooLarge(f"the body is at most {limit} bytes", field="body")
    stream = request.stream
    chunks: list[bytes] = []
    # With a Content-Length, that many bytes and no read past them to find the end; without one,
    # one byte more than the limit tells a body too long.
    remaining = limit + 1 if length is None else length
    try:
        # A read may return fewer bytes than asked (a socket, a dechunker): loop until EOF or over.
        while remaining > 0:
            chunk = stream.read(min(remaining, _READ_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except ClientDisconnected as exc:
        raise InputError("the body ended before its Content-Length", field="body") from exc
    body = b"".join(chunks)
    if length is not None and len(body) < length:
        raise InputError("the body ended before its Content-Length", field="body")
    if len(body) > limit:
        raise PayloadTooLarge(f"the body is at most {limit} bytes", field="body")
    # werkzeug's own get_data() cache: later get_data()/form parsing reuse these bytes.
    request._cached_data = body
    return body


# json.dumps(..., default=str) builds an encoder per call; this one is built once (the same output).
_JSON = json.JSONEncoder(default=str)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status."""
    # content_type, not mimetype: werkzeug would work out the same header again on every response.
    return Response(_JSON.encode(body), status=status, content_type="application/json", headers=headers)


def error_response(error: OieError, headers: dict[str, str] | None = None) -> Response:
    """The documented error envelope for a service error."""
    body: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.field is not None:
        body["field"] = error.field
    return json_response({"error": body}, status=status_for(error), headers=headers)


def cors_headers(origin: str | None, allowed: bool, methods: str, *, preflight: bool = False) -> dict[str, str]:
    """CORS headers for an allowed origin (echoed, never `*`); none for any other.

    Methods, headers and max-age are read by browsers from a preflight's answer only, so the
    answers to the requests themselves carry just the origin (fewer headers on every event batch).
    """
    if not origin or not allowed:
        return {}
    if not preflight:
        return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": f"{methods}, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
        "Vary": "Origin",
    }
