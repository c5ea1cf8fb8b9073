"""What one tenant's sync knows about its leads: emails from Firestore, the rest from crm.sql."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from oie.crm import mapping
from oie.crm.models import ContactWrite, CrmConfig
from oie.crm.ports import CrmStore
from oie.ports import Clock, Warehouse

TOP_PAGES_DAYS = 30


@dataclass
class Facts:
    """The leads of one tenant's sync: who they are, their profiles and pages, and what to write."""

    people: dict[str, dict[str, str]]
    profiles: dict[str, dict[str, Any]]
    pages: dict[str, list[str]]
    writes: list[ContactWrite]


def gather(
    warehouse: Warehouse, store: CrmStore, clock: Clock, tenant_id: str, config: CrmConfig, lead_ids: Sequence[str]
) -> Facts:
    """Each lead's contact write; a lead with no email in Firestore (erased) or no profile gets none."""
    people = store.lead_emails(tenant_id, lead_ids)
    ids = [i for i in lead_ids if i in people]
    if not ids:
        return Facts(people, {}, {}, [])
    params = {"tenant_id": tenant_id, "lead_ids": ids}
    profiles = {r["lead_id"]: r for r in warehouse.query("crm_profiles", params)}
    now = clock.now()
    pages: dict[str, list[str]] = defaultdict(list)
    since = now - timedelta(days=TOP_PAGES_DAYS)
    for row in warehouse.query("crm_top_pages", {**params, "since": since}):
        pages[row["lead_id"]].append(str(row["page_path"]))
    tracking = {r["lead_id"]: r["tracking_id"] for r in warehouse.query("crm_tracking_ids", params)}
    writes = [
        ContactWrite(
            lead_id=lead_id,
            email=people[lead_id]["email"],
            first_name=people[lead_id]["first_name"],
            last_name=people[lead_id]["last_name"],
            company=people[lead_id]["company"],
            values=mapping.contact_values(
                profiles[lead_id], pages.get(lead_id, []), tracking.get(lead_id), now, config.written_fields()
            ),
        )
        for lead_id in ids
        if lead_id in profiles
    ]
    return Facts(people, profiles, dict(pages), writes)
