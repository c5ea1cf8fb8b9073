"""POST /webhooks/sendgrid/{tenant}: real ECDSA signatures, on the Firestore emulator and DuckDB."""

import json

import pytest

from oie.suppressions.models import address_key
from oie.webhooks.signer import LocalSigner
from tests.integration.webhooks.helpers import event, post_events

pytestmark = pytest.mark.firestore


def stored(app, table="message_events"):
    return app.warehouse.sql(f"select * from {table}")


def test_a_signed_delivery_is_stored_and_its_human_events_become_tasks(app, gateway, signer, queue, now):
    events = [event("processed"), event("delivered"), event("open"), event("click", timestamp=1772443001 + 120)]
    response = post_events(gateway, signer, events, at=now)
    assert response.status_code == 200
    assert response.get_json()["accepted"] == 4
    (delivery,) = stored(app, "webhook_deliveries")
    assert (delivery["event_count"], delivery["new_events"], delivery["duplicate_events"]) == (4, 4, 0)
    assert json.loads(delivery["raw_body"]) == events
    rows = stored(app)
    assert sorted(r["event_type"] for r in rows) == ["click", "delivered", "open", "processed"]
    click = next(r for r in rows if r["event_type"] == "click")
    assert click["url"] == "https://www.acme.com/pricing" and click["contact_campaign_id"] == "cc1"
    assert len(click["email_sha256"]) == 64 and "lead1" not in json.dumps(click, default=str)
    assert sorted(e["type"] for e in queue.events()) == ["click", "delivered", "open"]
    task = queue.tasks[0]
    assert (task.queue, task.function, task.payload["kind"]) == ("webhook-events", "campaign_step", "event")
    assert {e["message_id"] for e in queue.events()} == {"m1"}


@pytest.mark.parametrize(
    "tamper",
    ["bad_signature", "stale", "wrong_key", "unsigned", "unknown_tenant"],
)
def test_a_delivery_that_does_not_verify_is_refused_and_nothing_is_stored(app, gateway, signer, queue, now, tamper):
    body = json.dumps([event("open")]).encode()
    headers = signer.headers(body, now)
    path = "/webhooks/sendgrid/acme"
    if tamper == "bad_signature":
        body = body.replace(b"open", b"click")
    elif tamper == "stale":
        headers = signer.headers(body, now - app.settings.webhook_max_age_seconds - 5)
    elif tamper == "wrong_key":
        headers = LocalSigner.generate().headers(body, now)
    elif tamper == "unsigned":
        headers = {"Content-Type": "application/json"}
    elif tamper == "unknown_tenant":
        path = "/webhooks/sendgrid/other"
    response = gateway.post(path, data=body, headers=headers)
    assert response.status_code in (401, 403)
    assert response.get_json()["error"]["code"] in ("unauthenticated", "forbidden")
    assert stored(app) == [] and stored(app, "webhook_deliveries") == [] and queue.tasks == []


def test_every_delivery_twice_and_out_of_order_gives_no_duplicate_events_or_tasks(app, gateway, signer, queue, now):
    first = [event("delivered", 1), event("open", 1), event("click", 2, timestamp=1772443100)]
    second = [event("open", 2), event("bounce", 3)]
    retry_with_new_ids = [dict(e, sg_event_id=e["sg_event_id"] + "-retry") for e in first]
    for batch, at in ((second, now), (first, now + 1), (second, now + 2), (retry_with_new_ids, now + 3)):
        assert post_events(gateway, signer, batch, at=at).status_code == 200
    assert post_events(gateway, signer, list(reversed(first)), at=now + 4).get_json()["duplicates"] == 3
    unique = app.warehouse.sql("select count(distinct dedup_key) as n, count(*) as rows from message_events")
    assert unique == [{"n": 5, "rows": 13}]
    names = [t.name for t in queue.tasks]
    assert len(names) == len(set(names)) == 5
    assert sorted(e["type"] for e in queue.events()) == ["bounce", "click", "delivered", "open", "open"]
    flagged = app.warehouse.sql("select count(*) as n from message_events where not is_duplicate")
    assert flagged == [{"n": 5}]


def test_machine_opens_and_scanner_clicks_are_stored_but_move_no_campaign(app, gateway, signer, queue, now):
    events = [
        event("open", 1, sg_machine_open=True),
        event("click", 2, useragent="Mozilla/5.0 (compatible; Barracuda Sentinel)"),
        event("delivered", 3),
        event("click", 3, timestamp=1772443003 + 4),  # four seconds after delivery
        event("click", 4),
    ]
    assert post_events(gateway, signer, events, at=now).status_code == 200
    rows = {(r["event_type"], r["oie_message_id"]): r for r in stored(app)}
    assert rows[("open", "m1")]["is_machine_open"] is True
    assert rows[("click", "m2")]["is_scanner_click"] is True
    assert rows[("click", "m3")]["scanner_reasons"] == ["within_15s_of_delivery"]
    assert rows[("click", "m4")]["is_scanner_click"] is False
    assert sorted((e["type"], e["message_id"]) for e in queue.events()) == [
        ("click", "m4"),
        ("delivered", "m3"),
    ]


def test_a_thousand_events_in_one_request_are_all_stored_and_enqueued(app, gateway, signer, queue, now):
    events = [event("open", n) for n in range(1000)]
    response = post_events(gateway, signer, events, at=now)
    assert response.status_code == 200 and response.get_json()["accepted"] == 1000
    assert app.warehouse.sql("select count(*) as n from message_events") == [{"n": 1000}]
    assert len(queue.tasks) == 1000


@pytest.mark.parametrize("kind", ["bounce", "dropped", "spamreport", "unsubscribe", "group_unsubscribe"])
def test_suppressing_events_suppress_the_address_at_once(app, gateway, signer, now, kind):
    assert post_events(gateway, signer, [event(kind, 7)], at=now).status_code == 200
    assert app.suppressions.is_suppressed("acme", "email", "lead7@example.com")
    doc = (
        app.firestore.collection("tenants")
        .document("acme")
        .collection("suppressions")
        .document(address_key("email", "lead7@example.com"))
        .get()
        .to_dict()
    )
    assert doc["source"] == "sendgrid_webhook"


def test_a_blocked_bounce_does_not_suppress(app, gateway, signer, now):
    post_events(gateway, signer, [event("bounce", 8, type="blocked")], at=now)
    assert not app.suppressions.is_suppressed("acme", "email", "lead8@example.com")


def test_broken_unknown_and_foreign_events_are_recorded_or_ignored_without_losing_good_ones(
    app, gateway, signer, queue, now
):
    events = [
        "not an object",
        {"event": "open"},  # no email, no timestamp
        event("brand_new_type", 1),
        event("open", 2, tenant_id="someone-else"),
        {k: v for k, v in event("open", 3).items() if k not in ("contact_campaign_id", "oie_message_id")},
        event("open", 4),
    ]
    response = post_events(gateway, signer, events, at=now)
    assert response.status_code == 200
    body = response.get_json()
    assert [i["index"] for i in body["ignored"]] == [0, 1, 2, 3]
    assert "email" in body["ignored"][1]["reason"]
    kinds = sorted((r["event_type"], r["is_known_type"]) for r in stored(app))
    assert kinds == [("brand_new_type", False), ("open", True), ("open", True)]
    assert [e["message_id"] for e in queue.events()] == ["m4"]


def test_malformed_json_is_a_clear_400_and_the_delivery_is_kept_for_audit(app, gateway, signer, now):
    response = post_events(gateway, signer, b'[{"event": "open",', at=now)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "body"
    (delivery,) = stored(app, "webhook_deliveries")
    assert delivery["error"].startswith("malformed JSON")


def test_a_warehouse_outage_answers_503_and_the_retry_is_handled_as_new(app, gateway, signer, queue, now, monkeypatch):
    from oie.errors import BackendUnavailable

    real = app.warehouse.insert_rows

    def down(*args, **kwargs):
        raise BackendUnavailable("warehouse down")

    monkeypatch.setattr(app.warehouse, "insert_rows", down)
    assert post_events(gateway, signer, [event("click", 1)], at=now).status_code == 503
    assert queue.tasks == []
    monkeypatch.setattr(app.warehouse, "insert_rows", real)
    retry = post_events(gateway, signer, [event("click", 1)], at=now + 30)
    assert retry.status_code == 200 and retry.get_json()["accepted"] == 1
    assert len(queue.tasks) == 1
