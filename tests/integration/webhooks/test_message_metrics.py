"""The message_metrics job on golden rows in DuckDB: counts, duplicate rate, intent, idempotency."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from oie.jobs.context import Window
from oie.jobs.runner import run_job
from oie.webhooks.metrics import message_metrics

pytestmark = pytest.mark.firestore
H1 = hashlib.sha256(b"ada@example.com").hexdigest()
AT = datetime(2026, 3, 2, 8, 15, tzinfo=UTC)
RECEIVED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def event_row(n, kind, key, **extra):
    row = {
        "row_id": f"r{n}",
        "dedup_key": key,
        "tenant_id": "acme",
        "delivery_id": "d1",
        "source": "sendgrid",
        "received_at": RECEIVED,
        "occurred_at": AT + timedelta(minutes=n),
        "event_type": kind,
        "is_known_type": True,
        "email_sha256": H1,
        "contact_campaign_id": "cc1",
        "oie_message_id": "m1",
        "is_machine_open": False,
        "is_scanner_click": False,
        "is_duplicate": False,
    }
    row.update(extra)
    return row


@pytest.fixture
def golden(app):
    w = app.warehouse
    w.insert_rows(
        "identity_map",
        [
            {
                "tenant_id": "acme",
                "tracking_id": "t1",
                "lead_id": "L1",
                "campaign_id": "camp",
                "email_sha256": H1,
                "created_at": AT - timedelta(days=1),
            }
        ],
        id_field="tracking_id",
    )
    w.insert_rows(
        "message_events",
        [
            event_row(1, "processed", "k1"),
            event_row(2, "delivered", "k2"),
            event_row(3, "open", "k3"),
            event_row(4, "open", "k3", is_duplicate=True),  # SendGrid's retry of the same open
            event_row(5, "open", "k5", is_machine_open=True),
            event_row(6, "click", "k6"),
            event_row(7, "click", "k7", is_scanner_click=True),
        ],
        id_field="row_id",
    )
    w.insert_rows(
        "inbound_messages",
        [
            {
                "inbound_id": "i1",
                "tenant_id": "acme",
                "received_at": AT + timedelta(minutes=20),
                "contact_campaign_id": "cc1",
                "is_auto_reply": False,
            },
            {
                "inbound_id": "i2",
                "tenant_id": "acme",
                "received_at": AT + timedelta(minutes=21),
                "contact_campaign_id": "cc1",
                "is_auto_reply": True,
            },
        ],
        id_field="inbound_id",
    )
    w.sql(
        "insert into sessions (tenant_id, session_id, visitor_id, lead_id, session_start, session_end, duration_s, "
        "active_s, event_count, pageviews, clicks, max_scroll, scroll_milestones, forms_started, forms_submitted, "
        "videos_played, videos_completed, pricing_views, case_study_views, product_views, is_return_visit, updated_at) "
        "values ('acme', 's1', 'v1', 'L1', '2026-03-02 08:40:00+00', '2026-03-02 08:50:00+00', 600, 300, 5, 2, 1, 80, "
        "2, 0, 0, 0, 0, 1, 0, 0, false, '2026-03-02 09:00:00+00')"
    )
    w.insert_rows(
        "lead_level_changes",
        [
            {
                "change_id": "c1",
                "tenant_id": "acme",
                "lead_id": "L1",
                "from_level": "warm",
                "to_level": "hot",
                "score": 65.0,
                "changed_at": AT + timedelta(minutes=55),
            }
        ],
        id_field="change_id",
    )


COUNTS = ("sent", "delivered", "opened", "clicked", "replied", "bounced", "unsubscribed", "spam_reports")


def test_the_rollups_count_people_not_machines_and_report_the_duplicate_rate(app, golden):
    report = run_job("message_metrics", app)
    assert report["hourly"] == 1
    (hour,) = app.warehouse.sql("select * from message_metrics_hourly")
    assert hour["campaign_id"] == "camp"  # from identity_map: the recipient is in one campaign only
    assert {k: hour[k] for k in (*COUNTS, "machine_opens", "scanner_clicks", "auto_replies")} == {
        "sent": 1,
        "delivered": 1,
        "opened": 1,
        "clicked": 1,
        "replied": 1,
        "bounced": 0,
        "unsubscribed": 0,
        "spam_reports": 0,
        "machine_opens": 1,
        "scanner_clicks": 1,
        "auto_replies": 1,
    }
    assert (hour["events_received"], hour["unique_events"]) == (7, 6)
    assert hour["duplicate_rate"] == pytest.approx(1 / 7)
    (day,) = app.warehouse.sql("select * from message_metrics_campaign_daily")
    assert (day["campaign_id"], str(day["day"]), day["opened"], day["replied"]) == ("camp", "2026-03-02", 1, 1)
    assert (day["visits"], day["leads_visited"], day["leads_turned_hot"]) == (1, 1, 1)
    assert day["duplicate_rate"] == pytest.approx(1 / 7)
    (tenant,) = app.warehouse.sql("select * from message_metrics_tenant_daily")
    assert (tenant["sent"], tenant["clicked"], tenant["visits"], tenant["leads_turned_hot"]) == (1, 1, 1, 1)
    views = app.warehouse.sql("select open_rate, reply_rate from message_performance")
    assert views == [{"open_rate": 1.0, "reply_rate": 1.0}]
    assert app.warehouse.sql("select duplicate_rate from tenant_message_health")[0]["duplicate_rate"] == pytest.approx(
        1 / 7
    )


def test_running_the_same_window_twice_leaves_the_same_rows(app, golden):
    now = app.clock.now()
    window = Window(since=RECEIVED - timedelta(hours=1), until=now, now=now)
    message_metrics(app.warehouse, window)
    tables = ("message_metrics_hourly", "message_metrics_campaign_daily", "message_metrics_tenant_daily")
    first = [app.warehouse.sql(f"select * from {t}") for t in tables]
    message_metrics(app.warehouse, window)
    assert [app.warehouse.sql(f"select * from {t}") for t in tables] == first
