"""The exceptions services raise, and the one table that maps them to HTTP answers.

OieError
├── InputError          400  bad input; names the field
├── Unauthenticated     401
├── Forbidden           403
├── NotFound            404
├── Conflict            409
├── PayloadTooLarge     413
├── RateLimited         429
└── BackendUnavailable  503  a backend is down; the caller should retry
"""

from __future__ import annotations


class OieError(Exception):
    """Base of every error a handler turns into a JSON error response."""

    code = "internal"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InputError(OieError):
    code = "invalid_input"


class Unauthenticated(OieError):
    code = "unauthenticated"


class Forbidden(OieError):
    code = "forbidden"


class NotFound(OieError):
    code = "not_found"


class Conflict(OieError):
    code = "conflict"


class PayloadTooLarge(OieError):
    code = "payload_too_large"


class RateLimited(OieError):
    code = "rate_limited"


class BackendUnavailable(OieError):
    code = "backend_unavailable"


HTTP_STATUS: dict[type[OieError], int] = {
    InputError: 400,
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    RateLimited: 429,
    BackendUnavailable: 503,
}


def status_for(error: OieError) -> int:
    """The HTTP status for an error, walking up its class tree; 500 when unmapped."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500
