"""The console's read services: the hot-leads list and one lead's timeline, each part a bounded read."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from oie.alerts.service import alert_key
from oie.campaigns.models import ContactCampaign, contact_campaign_id
from oie.console.models import LEVELS, HotLead, HotLeads, HotLeadsQuery, Level, Timeline
from oie.console.ports import AlertLog, CampaignReader, LeadDocs, TenantLookup
from oie.console.reasons import ScoreFacts, reason_words
from oie.console.timeline import (
    CampaignRow,
    EventRow,
    IdentityRow,
    LevelChangeRow,
    MessageRow,
    OutcomeRow,
    SessionRow,
    TimelineParts,
    campaign_plans,
    merge_timeline,
)
from oie.console.trend import CARRY_DAYS, Snapshot, change, daily_series, trend_window
from oie.errors import NotFound
from oie.outcomes.ports import OutcomeStore
from oie.ports import Clock, Warehouse

# "On site now": a session that ended this recently, as of the last sessionize run (every
# 5 minutes, 60 s settle), so a visitor shows within about 6 minutes and for 10 after.
PRESENT_FOR = timedelta(minutes=10)
SEARCH_LIMIT = 200  # leads a search may match; the page shows the best ranked of them
OWNER_LIMIT = 2000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DEFAULT_LEVELS: tuple[Level, ...] = ("burning", "hot", "warm")
# The timeline's bounds: what one lead's page reads at most.
HISTORY_DAYS = 90
SCORE_DAYS = 30
SESSIONS_LIMIT = 30
EVENT_SESSIONS = 5  # the pages of the latest sessions only: a bounded events read
EVENTS_LIMIT = 1000
MESSAGES_LIMIT = 300
CHANGES_LIMIT = 100
IDENTITY_LIMIT = 20
CAMPAIGNS_LIMIT = 10


def _name(doc: dict[str, Any]) -> str:
    return " ".join(p for p in (str(doc.get("first_name", "")), str(doc.get("last_name", ""))) if p)


@dataclass
class ConsoleService:
    warehouse: Warehouse
    leads: OutcomeStore  # search, owner filter, outcome history
    lead_docs: LeadDocs
    campaigns: CampaignReader
    alerts: AlertLog
    tenants: TenantLookup
    clock: Clock

    def _lead_filter(self, tenant_id: str, query: HotLeadsQuery) -> list[str] | None:
        """The lead ids a search and an owner allow (Firestore holds emails and names), None for any."""
        allowed: list[str] | None = None
        if query.q:
            allowed = [str(d.get("lead_id", "")) for d in self.leads.search_leads(tenant_id, query.q, SEARCH_LIMIT)]
        if query.owner:
            owned = {
                str(d.get("lead_id", ""))
                for d in self.leads.leads(tenant_id, {"assigned_partner": query.owner}, OWNER_LIMIT)
            }
            allowed = sorted(owned) if allowed is None else [i for i in allowed if i in owned]
        return None if allowed is None else [i for i in allowed if i]

    def hot_leads(self, tenant_id: str, query: HotLeadsQuery) -> HotLeads:
        """Leads ranked by intent with the reason in words, presence and a 7-day trend."""
        now = self.clock.now()
        present_since = now - PRESENT_FOR
        allowed = self._lead_filter(tenant_id, query)
        # A search or an owner looks for people, whatever their level; the list alone shows the warm ones.
        levels = list(query.level) or list(LEVELS if allowed is not None else DEFAULT_LEVELS)
        if allowed == []:
            return HotLeads(leads=[], generated_at=now, presence_since=present_since)
        rows = self.warehouse.query(
            "console_hot_leads",
            {
                "tenant_id": tenant_id,
                "levels": levels,
                "campaign_id": query.campaign,
                "active_since": query.since or EPOCH,
                "lead_ids": allowed or [],
                "filter_by_ids": allowed is not None,
                "present_since": present_since,
                "limit_rows": query.limit,
            },
        )
        ids = [str(r["lead_id"]) for r in rows]
        docs = self.lead_docs.get_many(tenant_id, ids)
        trends = self._trends(tenant_id, ids, now.date())
        leads = []
        for row in rows:
            doc = docs.get(row["lead_id"], {})
            trend = trends.get(row["lead_id"], [])
            leads.append(
                HotLead(
                    lead_id=row["lead_id"],
                    email=str(doc.get("email", "")),
                    name=_name(doc),
                    company=str(doc.get("company", "")),
                    owner=str((doc.get("attributes") or {}).get("assigned_partner", "")),
                    level=row["level"],
                    score=float(row["score"]),
                    reason=reason_words(ScoreFacts.model_validate(row), now),
                    evidence_level=row.get("evidence_level"),
                    last_seen_at=row["last_seen_at"],
                    on_site_now=bool(row["on_site_now"]),
                    campaign_id=row.get("campaign_id"),
                    trend=trend,
                    trend_change=change(trend),
                )
            )
        return HotLeads(leads=leads, generated_at=now, presence_since=present_since)

    def _trends(self, tenant_id: str, lead_ids: list[str], today: date) -> dict[str, list[Any]]:
        if not lead_ids:
            return {}
        first, last = trend_window(today)
        rows = self.warehouse.query(
            "console_score_history",
            {
                "tenant_id": tenant_id,
                "lead_ids": lead_ids,
                "from_day": first - timedelta(days=CARRY_DAYS),
                "to_day": last,
            },
        )
        by_lead: dict[str, list[Snapshot]] = defaultdict(list)
        for row in rows:
            by_lead[row["lead_id"]].append(Snapshot.model_validate(row))
        return {lead: daily_series(snaps, first, last) for lead, snaps in by_lead.items()}

    def timeline(self, tenant_id: str, lead_id: str) -> Timeline:
        """One lead's story, each part read with its own bound; 404 for a lead the tenant lacks."""
        if self.leads.lead(tenant_id, lead_id) is None:
            raise NotFound("no such lead", field="lead_id")
        now = self.clock.now()
        since = now - timedelta(days=HISTORY_DAYS)
        truncated: list[str] = []

        def read(part: str, name: str, limit: int, **params: Any) -> list[dict[str, Any]]:
            rows = self.warehouse.query(name, {"tenant_id": tenant_id, **params, "limit_rows": limit + 1})
            if len(rows) > limit:
                truncated.append(part)
            return rows[:limit]

        sessions = [
            SessionRow.model_validate(r)
            for r in read("sessions", "console_lead_sessions", SESSIONS_LIMIT, lead_id=lead_id, since=since)
        ]
        recent = sessions[:EVENT_SESSIONS]  # newest first
        events = []
        if recent:
            events = [
                EventRow.model_validate({**r, "props": r.get("props_json")})
                for r in read(
                    "events",
                    "console_session_events",
                    EVENTS_LIMIT,
                    visitor_ids=sorted({s.visitor_id for s in recent}),
                    from_at=min(s.session_start for s in recent),
                    to_at=max(s.session_end for s in recent),
                )
            ]
        campaign_ids = [
            r["campaign_id"] for r in read("campaigns", "console_lead_campaigns", CAMPAIGNS_LIMIT, lead_id=lead_id)
        ]
        ccids = [contact_campaign_id(c, lead_id) for c in campaign_ids]
        messages = []
        if ccids:
            messages = [
                MessageRow.model_validate(r)
                for r in read(
                    "messages", "console_lead_messages", MESSAGES_LIMIT, contact_campaign_ids=ccids, since=since
                )
            ]
        changes = self._changes(
            tenant_id, read("changes", "console_lead_changes", CHANGES_LIMIT, lead_id=lead_id, since=since)
        )
        # One row per (visitor, other lead): the LIMIT bounds the visitors, not the rows.
        identity = _identity(
            self.warehouse.query(
                "console_lead_identity", {"tenant_id": tenant_id, "lead_id": lead_id, "limit_rows": IDENTITY_LIMIT}
            )
        )
        campaigns = [self._campaign(tenant_id, s) for s in self.campaigns.states(tenant_id, ccids)] if ccids else []
        outcomes = [OutcomeRow.model_validate(o.model_dump()) for o in self.leads.history(tenant_id, lead_id)]
        parts = TimelineParts(
            sessions=sessions,
            events=events,
            messages=messages,
            changes=changes,
            outcomes=outcomes,
            identity=identity,
            campaigns=campaigns,
        )
        first_day, today = now.date() - timedelta(days=SCORE_DAYS - 1), now.date()
        snapshots = self.warehouse.query(
            "console_score_history",
            {
                "tenant_id": tenant_id,
                "lead_ids": [lead_id],
                "from_day": first_day - timedelta(days=CARRY_DAYS),
                "to_day": today,
            },
        )
        return Timeline(
            lead_id=lead_id,
            items=merge_timeline(parts),
            campaigns=campaign_plans(campaigns),
            score=daily_series([Snapshot.model_validate(r) for r in snapshots], first_day, today),
            first_day=since.date(),
            truncated=truncated,
        )

    def _changes(self, tenant_id: str, rows: Sequence[dict[str, Any]]) -> list[LevelChangeRow]:
        """Level changes, each flagged when an alert for it reached one of the tenant's channels."""
        tenant = self.tenants.get(tenant_id)
        channels = tenant.alert_channels if tenant else []
        keys = {r["change_id"]: [alert_key(r["change_id"], ch) for ch in channels] for r in rows}
        sent = self.alerts.sent([k for ks in keys.values() for k in ks]) if channels and rows else set()
        return [
            LevelChangeRow.model_validate({**r, "alerted": any(k in sent for k in keys[r["change_id"]])}) for r in rows
        ]

    def _campaign(self, tenant_id: str, state: ContactCampaign) -> CampaignRow:
        pending = state.pending
        return CampaignRow(
            campaign_id=state.campaign_id,
            # The contact's own pause shows as its status (a campaign or tenant pause is on the Campaigns page).
            status="paused" if state.paused and state.status == "active" else state.status,
            current_node=state.current_node,
            nodes=tuple(self.campaigns.plan_nodes(tenant_id, state.plan_version)),
            node_entered_at=state.node_entered_at,
            next_step_kind=pending.kind if pending else None,
            next_step_node=pending.node_id if pending else None,
            next_step_at=pending.due_at if pending else None,
            ended_at=state.ended_at,
            end_reason=state.end_reason,
        )


def _identity(rows: Sequence[dict[str, Any]]) -> list[IdentityRow]:
    """One row per visitor with the other leads it is linked to (the query gives one row per pair)."""
    visitors: dict[str, dict[str, Any]] = {}
    for row in rows:
        seen = visitors.setdefault(row["visitor_id"], {**row, "other_lead_ids": []})
        if row.get("other_lead_id"):
            seen["other_lead_ids"].append(row["other_lead_id"])
    return [IdentityRow.model_validate(v) for v in visitors.values()]
