"""Who waits on a pixel trigger: the read model `/track` asks before handing a visit over.

`tenants/{t}/intent_watch/{tracking_id}` = {lead_id, contact_campaign_ids, updated_at},
written when a contact starts on a plan with a `page_visit`, `form_submit` or
`return_visit` transition. `/track` reads it (cached) so visitors nobody waits for cost
one cached lookup and no task; the signal consumer drops ended campaigns from it lazily.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:  # /track imports this module: it needs no plan code at run time
    from oie.campaigns.plan import Plan

# Transition events only the pixel can produce: a plan with one of them needs the watch.
PIXEL_TRIGGERS = frozenset({"page_visit", "form_submit", "return_visit"})


class WatchEntry(BaseModel):
    """One watched tracking id: whose it is, and which contact campaigns wait on it."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    tracking_id: str
    lead_id: str
    contact_campaign_ids: tuple[str, ...] = ()
    updated_at: datetime | None = None


def waits_on_pixel(plan: Plan) -> bool:
    """Whether any node of the plan has a transition on a page visit, form submit or return visit."""
    return any(str(t.on) in PIXEL_TRIGGERS for node in plan.nodes for t in getattr(node, "transitions", ()))


def watch_key(tenant_id: str, tracking_id: str) -> str:
    """The read-through cache key of one tenant's tracking id (tenant first: ids never cross)."""
    return f"{tenant_id}/{tracking_id}"


class IntentWatch(Protocol):
    def add(self, tenant_id: str, tracking_id: str, lead_id: str, ccid: str, at: datetime) -> None:
        """Add a contact campaign to a tracking id's entry (array union: a repeat changes nothing)."""
        ...

    def get(self, tenant_id: str, tracking_id: str) -> WatchEntry | None: ...

    def drop(self, tenant_id: str, tracking_id: str, ended: Collection[str]) -> None:
        """Remove ended contact campaigns from the entry in one transaction; delete it when none is left."""
        ...
