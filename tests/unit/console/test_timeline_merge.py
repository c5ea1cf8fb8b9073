"""The timeline merge: every part in one chronological list, sessions with their pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oie.console.timeline import (
    CampaignRow,
    EventRow,
    IdentityRow,
    LevelChangeRow,
    MessageRow,
    OutcomeRow,
    SessionRow,
    TimelineParts,
    merge_timeline,
    session_pages,
)

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def event(n: int, minutes: float, kind: str, path: str = "/pricing", visitor: str = "v1", **props: object) -> EventRow:
    return EventRow(
        event_id=f"e{n:03d}", visitor_id=visitor, event_type=kind, occurred_at=at(minutes), page_path=path, props=props
    )


def session(sid: str = "v1-1", start: float = 0, end: float = 10, evidence: str = "verified") -> SessionRow:
    return SessionRow(
        session_id=sid,
        visitor_id="v1",
        session_start=at(start),
        session_end=at(end),
        pageviews=2,
        active_s=300,
        evidence=evidence,
    )


def test_pages_carry_time_scroll_cta_clicks_forms_and_video():
    pages = session_pages(
        [
            event(1, 0, "pageview", "/"),
            event(2, 1, "scroll", "/", depth=50),
            event(3, 2, "pageview"),
            event(4, 3, "active_time", ms=90_500),
            event(5, 4, "scroll", depth=75),
            event(6, 4.5, "scroll", depth=25),
            event(7, 5, "click", cta=True),
            event(8, 5.5, "click"),
            event(9, 6, "form_start", form_id="demo"),
            event(10, 7, "form_submit", form_id="demo"),
            event(11, 8, "video", action="play"),
            event(12, 9, "video", action="complete"),
        ]
    )
    assert [(p.path, p.max_scroll) for p in pages] == [("/", 50), ("/pricing", 75)]
    pricing = pages[1]
    assert (pricing.active_s, pricing.clicks, pricing.cta_clicks) == (90, 2, 1)
    assert (pricing.forms_started, pricing.forms_submitted, pricing.video) == (1, 1, ["play", "complete"])


def test_an_event_on_another_path_without_a_pageview_opens_a_page():
    pages = session_pages([event(1, 0, "pageview", "/a"), event(2, 1, "scroll", "/b", depth=25)])
    assert [p.path for p in pages] == ["/a", "/b"]


def test_props_stored_as_json_text_are_read():
    row = EventRow.model_validate(
        {"event_id": "e", "visitor_id": "v", "event_type": "scroll", "occurred_at": T0, "props": '{"depth":90}'}
    )
    assert row.props == {"depth": 90}


def test_every_part_merges_oldest_first_with_its_flags():
    parts = TimelineParts(
        identity=[IdentityRow(visitor_id="v1", source="tracking_id", first_seen_at=at(0), other_lead_ids=("lead_b",))],
        sessions=[session()],
        events=[event(1, 0, "pageview"), event(2, 30, "pageview", "/outside")],
        messages=[
            MessageRow(dedup_key="m1", occurred_at=at(-60), event_type="processed", campaign_id="c1"),
            MessageRow(dedup_key="m2", occurred_at=at(-59), event_type="open", is_machine_open=True),
            MessageRow(dedup_key="m3", occurred_at=at(-58), event_type="click", is_scanner_click=True),
        ],
        changes=[
            LevelChangeRow(
                change_id="ch1", from_level="warm", to_level="hot", score=64.0, changed_at=at(15), alerted=True
            )
        ],
        outcomes=[
            OutcomeRow(outcome_id="o1", occurred_at=at(120), outcome_type="appointment_set", outcome_stage="mid_funnel")
        ],
        campaigns=[
            CampaignRow(
                campaign_id="c1",
                status="active",
                current_node="follow_up",
                node_entered_at=at(-30),
                next_step_kind="send",
                next_step_node="follow_up",
                next_step_at=at(60 * 24),
            )
        ],
    )
    items = merge_timeline(parts)
    assert [(i.kind, i.title, i.flags) for i in items] == [
        ("email", "email sent", []),
        ("email", "email opened", ["machine open"]),
        ("email", "email link clicked", ["scanner click"]),
        ("campaign", "campaign c1: at step follow_up", ["active"]),
        ("identity", "browser linked by a tracking link", ["verified", "conflict"]),
        ("session", "visit: 2 pages, 5.0 active min", ["verified"]),
        ("level_change", "warm → hot (score 64)", ["alert sent"]),
        ("outcome", "appointment set", []),
        ("campaign", "campaign c1: next send at step follow_up", ["scheduled"]),
    ]
    visit = items[5]
    # Only the events inside the session's span are its pages.
    assert [p.path for p in visit.pages] == ["/pricing"]
    assert items[4].facts["also_linked_to"] == "lead_b"


def test_an_id_only_session_is_marked_unverified():
    (item,) = merge_timeline(TimelineParts(sessions=[session(evidence="id_only")]))
    assert item.flags == ["unverified (id only)"]


def test_events_of_another_visitor_are_not_pages_of_the_session():
    (item,) = merge_timeline(TimelineParts(sessions=[session()], events=[event(1, 1, "pageview", visitor="v2")]))
    assert item.pages == []


def test_an_ended_campaign_says_why():
    ended = CampaignRow(campaign_id="c1", status="replied", current_node="n2", ended_at=at(5), end_reason="reply")
    assert [i.title for i in merge_timeline(TimelineParts(campaigns=[ended]))] == ["campaign c1 ended (reply)"]
