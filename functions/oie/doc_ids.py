"""One pattern per kind of id that becomes (part of) a Firestore document path.

An id from a URL or a body is checked here before it is used as a path segment, so
`..`, `/`, `__x__` (Firestore's reserved names) and control characters can never
reach another document: the caller answers 400 (a body field) or 404 (a path).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator

from oie.errors import InputError

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
CAMPAIGN_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
LEAD_ID = re.compile(r"^ld_[0-9A-Za-z]{8,32}$")
# `(?!__)`: Firestore reserves ids of the form `__x__`; an id may not even start like one.
OUTCOME_ID = re.compile(r"^(?!__)[A-Za-z0-9_-]{8,64}$")
API_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
NUDGE_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}-[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Server-issued visitor ids are token_urlsafe: only the reserved `__x__` form itself is refused.
VISITOR_ID = re.compile(r"^(?!__.*__$)[0-9A-Za-z_-]{8,64}$")
TRACKING_ID = re.compile(r"^[0-9A-Za-z]{8,16}$")

PATTERNS: dict[str, re.Pattern[str]] = {
    "tenant_id": TENANT_ID,
    "campaign_id": CAMPAIGN_ID,
    "lead_id": LEAD_ID,
    "outcome_id": OUTCOME_ID,
    "key_id": API_KEY_ID,
    "nudge_id": NUDGE_ID,
    "visitor_id": VISITOR_ID,
    "tracking_id": TRACKING_ID,
}


def is_valid(kind: str, value: object) -> bool:
    """Whether value is a well-formed id of this kind (kind is a key of PATTERNS)."""
    return isinstance(value, str) and PATTERNS[kind].fullmatch(value) is not None


def require(kind: str, value: object, *, field: str | None = None) -> str:
    """The id itself, or InputError naming the field when it is not of this kind's form."""
    if not is_valid(kind, value):
        raise InputError(f"not a valid {kind.replace('_', ' ')}", field=field or kind)
    return str(value)


def _pydantic(kind: str) -> BeforeValidator:
    # Before, not after: the raw value is checked, so no model setting (whitespace
    # stripping, coercion of numbers) can turn a bad id into a good one.
    def check(value: object) -> object:
        if not is_valid(kind, value):
            raise ValueError(f"not a valid {kind.replace('_', ' ')}")
        return value

    return BeforeValidator(check)


# Annotated types for pydantic models at the boundary.
TenantId = Annotated[str, _pydantic("tenant_id")]
CampaignId = Annotated[str, _pydantic("campaign_id")]
LeadId = Annotated[str, _pydantic("lead_id")]
OutcomeId = Annotated[str, _pydantic("outcome_id")]
ApiKeyId = Annotated[str, _pydantic("key_id")]
