"""One lead's story: sessions (with their pages), email events, campaign steps, outcomes,
level changes and alerts, identity links — merged into one chronological list. Pure."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from oie.console.models import CampaignPlan, Kind, PageVisit, TimelineItem

# Same-instant items read cause before effect: who the visitor is, the visit, the email, …
KIND_ORDER: dict[Kind, int] = {"identity": 0, "session": 1, "email": 2, "campaign": 3, "level_change": 4, "outcome": 5}
EVIDENCE_FLAG = {"verified": "verified", "corroborated": "corroborated", "id_only": "unverified (id only)"}
LINKED_BY = {"tracking_id": "a tracking link", "email": "an email typed into a form"}
EMAIL_TITLES = {
    "processed": "email sent",
    "delivered": "email delivered",
    "open": "email opened",
    "click": "email link clicked",
    "bounce": "email bounced",
    "dropped": "email dropped",
    "deferred": "email deferred",
    "spamreport": "marked as spam",
    "unsubscribe": "unsubscribed",
    "group_unsubscribe": "unsubscribed",
    "reply": "replied",
}


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class SessionRow(_Row):
    session_id: str
    visitor_id: str
    session_start: datetime
    session_end: datetime
    duration_s: int = 0
    active_s: int = 0
    pageviews: int = 0
    clicks: int = 0
    max_scroll: int = 0
    forms_submitted: int = 0
    videos_completed: int = 0
    pricing_views: int = 0
    entry_page: str | None = None
    exit_page: str | None = None
    device_type: str | None = None
    country: str | None = None
    company_name: str | None = None
    evidence: str | None = None


class EventRow(_Row):
    event_id: str
    visitor_id: str
    event_type: str
    occurred_at: datetime
    page_path: str | None = None
    props: dict[str, Any] = {}

    @field_validator("props", mode="before")
    @classmethod
    def _parse(cls, value: Any) -> Any:
        # Stored as JSON; BigQuery hands back text from to_json_string, DuckDB too.
        if isinstance(value, str):
            value = json.loads(value) if value else {}
        return value if isinstance(value, dict) else {}


class MessageRow(_Row):
    dedup_key: str
    occurred_at: datetime
    event_type: str
    campaign_id: str | None = None
    node_id: str | None = None
    oie_message_id: str | None = None
    url: str | None = None
    reason: str | None = None
    is_machine_open: bool = False
    is_scanner_click: bool = False


class LevelChangeRow(_Row):
    change_id: str
    from_level: str | None = None
    to_level: str
    score: float
    evidence_level: str | None = None
    changed_at: datetime
    alerted: bool = False


class OutcomeRow(_Row):
    outcome_id: str
    occurred_at: datetime
    outcome_type: str
    outcome_stage: str
    recorded_by: str = ""
    notes: str = ""


class IdentityRow(_Row):
    visitor_id: str
    source: str
    first_seen_at: datetime
    other_lead_ids: tuple[str, ...] = ()


class CampaignRow(_Row):
    campaign_id: str
    status: str
    current_node: str
    nodes: tuple[str, ...] = ()
    node_entered_at: datetime | None = None
    next_step_kind: str | None = None
    next_step_node: str | None = None
    next_step_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str = ""


@dataclass
class TimelineParts:
    """What the service fetched for one lead, each part bounded on its own."""

    sessions: Sequence[SessionRow] = ()
    events: Sequence[EventRow] = ()
    messages: Sequence[MessageRow] = ()
    changes: Sequence[LevelChangeRow] = ()
    outcomes: Sequence[OutcomeRow] = ()
    identity: Sequence[IdentityRow] = ()
    campaigns: Sequence[CampaignRow] = field(default_factory=tuple)


def session_pages(events: Sequence[EventRow]) -> list[PageVisit]:
    """A session's pages in order: a pageview, or an event on another path, opens the next one."""
    pages: list[PageVisit] = []
    for event in sorted(events, key=lambda e: (e.occurred_at, e.event_id)):
        path = event.page_path or "/"
        if event.event_type == "pageview" or not pages or pages[-1].path != path:
            pages.append(PageVisit(path=path, at=event.occurred_at))
        page, props = pages[-1], event.props
        if event.event_type == "active_time":
            page.active_s += int(props.get("ms", 0)) // 1000
        elif event.event_type == "scroll":
            page.max_scroll = max(page.max_scroll, int(props.get("depth", 0)))
        elif event.event_type == "click":
            page.clicks += 1
            page.cta_clicks += 1 if props.get("cta") else 0
        elif event.event_type == "form_start":
            page.forms_started += 1
        elif event.event_type == "form_submit":
            page.forms_submitted += 1
        elif event.event_type == "video" and props.get("action"):
            page.video.append(str(props["action"]))
    return pages


def _in_session(session: SessionRow, event: EventRow) -> bool:
    return event.visitor_id == session.visitor_id and session.session_start <= event.occurred_at <= session.session_end


def _session_item(session: SessionRow, events: Sequence[EventRow]) -> TimelineItem:
    minutes = round(session.active_s / 60, 1)
    return TimelineItem(
        at=session.session_start,
        kind="session",
        item_id=session.session_id,
        title=f"visit: {session.pageviews} pages, {minutes} active min",
        flags=[EVIDENCE_FLAG.get(session.evidence or "", "unlinked")],
        facts={
            "ended_at": session.session_end.isoformat(),
            "duration_s": session.duration_s,
            "max_scroll": session.max_scroll,
            "clicks": session.clicks,
            "forms_submitted": session.forms_submitted,
            "videos_completed": session.videos_completed,
            "entry_page": session.entry_page,
            "exit_page": session.exit_page,
            "device_type": session.device_type,
            "country": session.country,
            "company_name": session.company_name,
            "visitor_id": session.visitor_id,
        },
        pages=session_pages([e for e in events if _in_session(session, e)]),
    )


def _message_item(m: MessageRow) -> TimelineItem:
    flags = [*(["machine open"] if m.is_machine_open else []), *(["scanner click"] if m.is_scanner_click else [])]
    return TimelineItem(
        at=m.occurred_at,
        kind="email",
        item_id=m.dedup_key,
        title=EMAIL_TITLES.get(m.event_type, f"email {m.event_type}"),
        flags=flags,
        facts={
            "campaign_id": m.campaign_id,
            "node_id": m.node_id,
            "message_id": m.oie_message_id,
            "url": m.url,
            "reason": m.reason,
        },
    )


def _change_item(c: LevelChangeRow) -> TimelineItem:
    return TimelineItem(
        at=c.changed_at,
        kind="level_change",
        item_id=c.change_id,
        title=f"{c.from_level or 'new'} → {c.to_level} (score {c.score:g})",
        flags=["alert sent"] if c.alerted else [],
        facts={"evidence_level": c.evidence_level},
    )


def _outcome_item(o: OutcomeRow) -> TimelineItem:
    return TimelineItem(
        at=o.occurred_at,
        kind="outcome",
        item_id=o.outcome_id,
        title=o.outcome_type.replace("_", " "),
        facts={"stage": o.outcome_stage, "recorded_by": o.recorded_by, "notes": o.notes},
    )


def _identity_item(row: IdentityRow, sessions: Sequence[SessionRow]) -> TimelineItem:
    proofs = {s.evidence for s in sessions if s.visitor_id == row.visitor_id and s.evidence}
    best = next((p for p in ("verified", "corroborated", "id_only") if p in proofs), None)
    how = LINKED_BY.get(row.source, row.source)
    flags = [EVIDENCE_FLAG[best]] if best else []
    if row.other_lead_ids:
        flags.append("conflict")
    return TimelineItem(
        at=row.first_seen_at,
        kind="identity",
        item_id=f"visitor:{row.visitor_id}",
        title=f"browser linked by {how}",
        flags=flags,
        facts={"visitor_id": row.visitor_id, "also_linked_to": ", ".join(row.other_lead_ids) or None},
    )


def _campaign_items(c: CampaignRow) -> list[TimelineItem]:
    # (when, id suffix, title, flag) of each moment the contact campaign has reached or will.
    moments = [
        (c.node_entered_at, f"node:{c.current_node}", f"campaign {c.campaign_id}: at step {c.current_node}", c.status),
        (
            c.next_step_at if c.next_step_kind else None,
            f"next:{c.next_step_node}",
            f"campaign {c.campaign_id}: next {c.next_step_kind} at step {c.next_step_node}",
            "scheduled",
        ),
        (c.ended_at, "end", f"campaign {c.campaign_id} ended ({c.end_reason or c.status})", c.status),
    ]
    return [
        TimelineItem(at=at, kind="campaign", item_id=f"{c.campaign_id}:{suffix}", title=title, flags=[flag])
        for at, suffix, title, flag in moments
        if at
    ]


def campaign_plans(campaigns: Sequence[CampaignRow]) -> list[CampaignPlan]:
    return [
        CampaignPlan(
            campaign_id=c.campaign_id,
            status=c.status,
            current_node=c.current_node,
            nodes=list(c.nodes),
            next_step_kind=c.next_step_kind,
            next_step_node=c.next_step_node,
            next_step_at=c.next_step_at,
        )
        for c in campaigns
    ]


def merge_timeline(parts: TimelineParts) -> list[TimelineItem]:
    """Every part as items, oldest first; same-instant items by KIND_ORDER, then id."""
    items = [
        *(_identity_item(r, parts.sessions) for r in parts.identity),
        *(_session_item(s, parts.events) for s in parts.sessions),
        *(_message_item(m) for m in parts.messages),
        *(item for c in parts.campaigns for item in _campaign_items(c)),
        *(_change_item(c) for c in parts.changes),
        *(_outcome_item(o) for o in parts.outcomes),
    ]
    return sorted(items, key=lambda i: (i.at, KIND_ORDER[i.kind], i.item_id))
