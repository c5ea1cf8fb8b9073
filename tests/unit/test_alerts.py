import json
from datetime import UTC, datetime

import pytest

from oie.alerts.payload import describe, render, signature_headers, verify
from oie.alerts.service import HotLeadAlerts, is_rise
from oie.jobs.context import Window
from oie.links.models import LeadRecord
from oie.tenants.models import AlertChannel
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeLeadStore, FakeMarkers, FakeSecrets, FakeSender, FakeTenantStore

SLACK = AlertChannel(kind="slack", url="https://hooks.slack.example/T1/B1/x")
GENERIC = AlertChannel(kind="generic", url="https://crm.example/hooks/oie", min_level="warm")


@pytest.mark.parametrize(
    ("before", "after", "channel", "alert"),
    [
        (None, "hot", SLACK, True),
        ("warm", "hot", SLACK, True),
        ("hot", "burning", SLACK, True),
        ("cold", "warm", SLACK, False),  # below the channel's level
        ("cold", "warm", GENERIC, True),
        ("burning", "hot", SLACK, False),  # a fall is not news
        ("hot", "hot", SLACK, False),
    ],
)
def test_only_rises_into_the_channels_level_alert(before, after, channel, alert):
    assert is_rise(before, after, channel) is alert


ALERT = {
    "id": "acme:lead_1:hot:1",
    "lead": {"id": "lead_1", "name": "Ada Lovelace", "email": "ada@example.com", "company": "Engines"},
    "from_level": "warm",
    "to_level": "hot",
    "score": 72.0,
    "components": {
        "recency": 30.0,
        "frequency": 12.0,
        "engagement": 20.0,
        "high-intent pages": 10.0,
        "conversions": 0.0,
    },
    "changed_at": "2026-03-10T12:00:00+00:00",
}


def test_a_slack_alert_says_who_how_hot_and_why_in_one_line():
    body = json.loads(render(SLACK, ALERT))
    assert body["text"].startswith(":fire: Ada Lovelace (Engines) is now HOT — score 72/100")
    assert "high-intent pages 10" in body["text"] and "conversions" not in body["text"]
    assert describe(ALERT) in body["text"]


def test_a_generic_alert_carries_the_whole_change_as_json():
    body = json.loads(render(GENERIC, ALERT))
    assert body["type"] == "lead.level_changed" and body["lead"]["email"] == "ada@example.com"
    assert body["components"]["recency"] == 30.0


def test_signatures_verify_and_a_changed_body_does_not():
    headers = signature_headers(b"k" * 32, "a1", b'{"x":1}', 1767225600)
    assert verify(b"k" * 32, b'{"x":1}', headers)
    assert not verify(b"k" * 32, b'{"x":2}', headers)
    assert not verify(b"x" * 32, b'{"x":1}', headers)


class Changes:
    """A warehouse stand-in that answers `level_changes_to_alert`, and the planner's lead analyses."""

    def __init__(self, *rows, analyses=None):
        self.rows = list(rows)
        self.analyses = analyses or {}

    def query(self, name, params=None):
        if name == "alert_lead_analyses":
            # Bounded like the query: this tenant, these leads only.
            return [
                {"lead_id": lead, "lead_analysis": text}
                for (tenant, lead), text in self.analyses.items()
                if tenant == params["tenant_id"] and lead in params["lead_ids"]
            ]
        assert name == "level_changes_to_alert"
        return self.rows


def change(level="hot", before="warm", lead="lead_1", evidence="verified", now=None):
    return {
        "change_id": f"acme:{lead}:{level}:1",
        "tenant_id": "acme",
        "lead_id": lead,
        "from_level": before,
        "to_level": level,
        "score": 72.0,
        "changed_at": datetime(2026, 3, 10, tzinfo=UTC),
        "recency_points": 30,
        "frequency_points": 12,
        "engagement_points": 20,
        "high_intent_points": 10,
        "conversion_points": 0,
        "sessions": 3,
        "pricing_views": 1,
        "last_activity_at": datetime(2026, 3, 10, tzinfo=UTC),
        "evidence_level": evidence,
        "current_evidence_level": now or evidence,
        "verified_sessions": 2 if evidence == "verified" else 0,
        "corroborated_sessions": 0,
        "id_only_sessions": 1,
        "uncapped_level": level,
    }


def alerts(sender, markers=None, *rows, channels=(SLACK, GENERIC), analyses=None):
    leads = FakeLeadStore()
    leads.items[("acme", "lead_1")] = LeadRecord(
        email="ada@example.com", first_name="Ada", last_name="Lovelace", company="Engines"
    )
    return HotLeadAlerts(
        warehouse=Changes(*rows, analyses=analyses),
        tenants=FakeTenantStore(make_tenant(alert_channels=channels)),
        leads=leads,
        markers=markers or FakeMarkers(),
        sender=sender,
        secrets=FakeSecrets(),
        clock=FakeClock(),
        backoff=0,
    )


WINDOW = Window(
    since=datetime(2026, 3, 9, tzinfo=UTC),
    until=datetime(2026, 3, 11, tzinfo=UTC),
    now=datetime(2026, 3, 11, tzinfo=UTC),
)


def test_each_crossing_reaches_each_channel_once_even_when_the_run_repeats():
    sender, markers = FakeSender(200), FakeMarkers()
    first = alerts(sender, markers, change()).run(WINDOW)
    again = alerts(sender, markers, change()).run(WINDOW)
    assert (first.details, again.details) == ({"sent": 2, "failed": 0}, {"sent": 0, "failed": 0})
    assert sorted(url for url, _, _ in sender.posts) == sorted([str(SLACK.url), str(GENERIC.url)])
    assert all(h["X-OIE-Alert-Id"] == "acme:lead_1:hot:1" for _, _, h in sender.posts)


def test_a_server_error_is_retried_with_back_off_until_it_succeeds():
    sender = FakeSender(503, 503, 200)
    result = alerts(sender, None, change(), channels=(SLACK,)).run(WINDOW)
    assert result.details == {"sent": 1, "failed": 0} and len(sender.posts) == 3


def test_a_client_error_is_not_retried_now_but_the_next_run_tries_again():
    sender, markers = FakeSender(404), FakeMarkers()
    assert alerts(sender, markers, change(), channels=(SLACK,)).run(WINDOW).details == {"sent": 0, "failed": 1}
    assert len(sender.posts) == 1
    sender.statuses = [200]
    later = alerts(sender, markers, channels=(SLACK,)).run(WINDOW)  # no new changes: the failed one is retried
    assert later.details == {"sent": 1, "failed": 0} and len(sender.posts) == 2


def test_falls_and_sub_threshold_rises_send_nothing():
    sender = FakeSender(200)
    alerts(sender, None, change("warm", "hot"), change("warm", "cold", lead="lead_2"), channels=(SLACK,)).run(WINDOW)
    assert sender.posts == []


def test_header_names_are_matched_in_any_case():
    headers = signature_headers(b"k" * 32, "a1", b"{}", 1767225600)
    assert verify(b"k" * 32, b"{}", {k.lower(): v for k, v in headers.items()})
    assert not verify(b"k" * 32, b"{}", {"X-OIE-Signature": headers["X-OIE-Signature"]})  # no timestamp


def test_an_id_only_lead_is_never_alerted_even_if_the_query_let_it_through():
    sender = FakeSender(200)
    rows = (change("burning", "warm", evidence="id_only"), change("hot", lead="lead_2", evidence=None))
    result = alerts(sender, None, *rows).run(WINDOW)
    assert sender.posts == [] and result.details == {"sent": 0, "failed": 0}


def test_a_change_recorded_as_verified_is_not_sent_once_the_lead_is_id_only_again():
    sender = FakeSender(200)
    alerts(sender, None, change(evidence="verified", now="id_only")).run(WINDOW)
    assert sender.posts == []


def test_an_alert_carries_the_evidence_behind_the_level():
    sender = FakeSender(200)
    alerts(sender, None, change(evidence="corroborated"), channels=(GENERIC,)).run(WINDOW)
    ((_, body, _),) = sender.posts
    assert json.loads(body)["evidence"] == {
        "level": "corroborated",
        "verified_sessions": 0,
        "corroborated_sessions": 0,
        "id_only_sessions": 1,
    }


def test_a_hot_lead_alert_carries_the_lead_analysis_in_slack_and_json():
    sender = FakeSender(200)
    analysis = "Read pricing twice after the second email; reading case studies."
    alerts(sender, None, change(), analyses={("acme", "lead_1"): analysis, ("other", "lead_1"): "not this one"}).run(
        WINDOW
    )
    slack, generic = (json.loads(body) for _, body, _ in sender.posts)
    assert slack["text"].endswith(
        f"— score 72/100 (recency 30, frequency 12, engagement 20, high-intent pages 10). {analysis}"
    )
    assert generic["lead"]["analysis"] == analysis


def test_an_alert_without_a_plan_has_no_analysis_sentence():
    sender = FakeSender(200)
    alerts(sender, None, change(), channels=(SLACK,)).run(WINDOW)
    ((_, body, _),) = sender.posts
    assert json.loads(body)["text"].endswith("high-intent pages 10)")
