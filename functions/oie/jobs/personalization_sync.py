"""sync_personalization: changed lead profiles -> Firestore `profiles`, only showable fields."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Protocol

from oie.jobs.context import JobResult, Window
from oie.ports import ProfileStore, Warehouse


class LeadActivity(Protocol):
    def set_many_attributes(self, tenant_id: str, updates: list[tuple[str, dict[str, Any]]]) -> None: ...


def profile_fields(row: dict[str, Any]) -> dict[str, Any]:
    """The intent fields a page may show for one scored lead."""
    return {
        "intentLevel": row["intent_level"],
        "intentScore": int(row["intent_score"]),
        "viewedPricing": bool(row["viewed_pricing"]),
        "viewedCaseStudies": bool(row["viewed_case_studies"]),
    }


def sync_personalization(
    warehouse: Warehouse, profiles: ProfileStore, leads: LeadActivity, window: Window
) -> JobResult:
    """Copy profiles scored in the window to the personalization cache, in batches per tenant,
    and each lead's last activity onto the lead (outcome nudges look for stale leads there)."""
    rows = warehouse.query("profiles_to_sync", window.params())
    by_tenant: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    activity: dict[str, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for row in rows:
        by_tenant[row["tenant_id"]].append((row["lead_id"], profile_fields(row)))
        activity[row["tenant_id"]].append((row["lead_id"], {"last_activity_at": row["last_activity_at"].isoformat()}))
    for tenant_id, items in by_tenant.items():
        profiles.upsert_many(tenant_id, items)
        leads.set_many_attributes(tenant_id, activity[tenant_id])
    return JobResult(rows_written=len(rows), watermark=window.until, details={"tenants": len(by_tenant)})
