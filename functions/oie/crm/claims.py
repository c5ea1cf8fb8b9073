"""Which run creates a note: the claim on its key decides, so two runs at once never both do.

A claim (`tenants/{t}/crm_notes/{key}`) is `pending` while one run holds it (until
`lease_until`), `created` with the note's id once the CRM made it, or `released` after a
call that failed. A released claim, or a pending one whose lease ran out (its run stopped),
is taken over by the next run, which first searches the CRM: the failed call may have
reached it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

# new: claimed, never tried (create it). retry: taken over (search the CRM, then create).
# held: another run holds a live claim (leave it to that run). done: the note exists.
NoteClaim = Literal["new", "retry", "held", "done"]
# Beyond the run's own deadline and one more CRM call: Firestore writes and a slow clock.
LEASE_MARGIN_SECONDS = 30.0


def decide(existing: Mapping[str, Any] | None, now: datetime) -> NoteClaim:
    """What a run may do with a note key, given its claim document (None: no claim yet)."""
    if existing is None:
        return "new"
    if existing.get("state") == "created" or existing.get("note_id"):
        return "done"
    lease = existing.get("lease_until")
    if existing.get("state") == "pending" and isinstance(lease, datetime) and lease > now:
        return "held"
    return "retry"


def lease_until(now: datetime, deadline_left: float, call_seconds: float) -> datetime:
    """Until when a run holds its claims: past the last CRM call its deadline lets it start."""
    return now + timedelta(seconds=max(deadline_left, 0.0) + call_seconds + LEASE_MARGIN_SECONDS)


def claimed(lead_id: str, holder: str, at: datetime, until: datetime, attempts: int) -> dict[str, Any]:
    """The claim document a run writes when it takes a key."""
    return {
        "lead_id": lead_id,
        "state": "pending",
        "holder": holder,
        "claimed_at": at,
        "lease_until": until,
        "attempts": attempts,
    }
