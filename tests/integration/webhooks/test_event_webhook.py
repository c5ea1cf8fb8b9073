"""POST /webhooks/sendgrid/{tenant}: real ECDSA signatures, on the Firestore emulator and DuckDB."""

import json

import pytest

from oie.suppressions.models import address_key
from oie.webhooks.signer import LocalSigner
from tests.integration.webhooks.helpers import event, post_events
from tests.live import post_chunked, serving

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
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(0, "event"), (1, "email")]
    assert [i["index"] for i in body["ignored"]] == [2, 3]
    kinds = sorted((r["event_type"], r["is_known_type"]) for r in stored(app))
    assert kinds == [("brand_new_type", False), ("open", True), ("open", True)]
    assert [e["message_id"] for e in queue.events()] == ["m4"]
    (delivery,) = stored(app, "webhook_deliveries")
    assert (delivery["rejected_events"], delivery["ignored_events"]) == (2, 2)
    assert [r["field"] for r in json.loads(delivery["details"])["rejected"]] == ["event", "email"]


POISON = [
    ("timestamp", 1e20),
    ("timestamp", 2**63),
    ("timestamp", "Infinity-literal"),
    ("timestamp", "NaN-literal"),
    ("timestamp", "BIGINT-literal"),
    ("email", "lead\ud800@example.com"),
    ("email", "lead@exa\u0000mple.com"),
    ("email", {"nested": [1]}),
    ("event", "open\ud83d"),
    (
        "deep",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ),
]


@pytest.mark.parametrize(("field", "value"), POISON)
def test_one_event_that_can_never_be_stored_is_recorded_and_the_rest_are_stored_with_a_200(
    app, gateway, signer, queue, now, field, value
):
    good = [event("delivered", 1), event("bounce", 2)]
    placeholder = "POISON-PLACEHOLDER"
    raw = json.dumps([good[0], event("open", 3, **{field: placeholder}), good[1]])
    # json.dumps writes lone surrogates and NUL as JSON escapes, which Python's json decodes again.
    literals = {"Infinity-literal": "Infinity", "NaN-literal": "NaN", "BIGINT-literal": "9" * 5000}
    rendered = literals.get(str(value), json.dumps(value))
    if field == "deep":
        rendered = value
    body = raw.replace(f'"{placeholder}"', rendered).encode()
    response = post_events(gateway, signer, body, at=now)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["accepted"] == 2
    (rejected,) = answer["rejected"]
    assert rejected["index"] == 1 and rejected["field"].startswith(field)
    assert sorted(r["event_type"] for r in stored(app)) == ["bounce", "delivered"]
    assert app.suppressions.is_suppressed("acme", "email", "lead2@example.com")
    (delivery,) = stored(app, "webhook_deliveries")
    assert delivery["rejected_events"] == 1 and delivery["body_sha256"]
    # SendGrid's retry of the same delivery adds nothing and still gets a 200.
    again = post_events(gateway, signer, body, at=now + 60)
    assert again.status_code == 200 and again.get_json()["duplicates"] == 2


def test_free_text_that_cannot_be_stored_is_cleaned_and_ids_that_are_not_ours_move_nothing(
    app, gateway, signer, queue, now
):
    raw = json.dumps(
        [
            event("bounce", 1, reason="550 PLACEHOLDER", status="5.1.1" + "x" * 10_000),
            event("open", 2, oie_message_id="__x__", contact_campaign_id="../../tenants/globex"),
        ]
    )
    body = raw.replace("PLACEHOLDER", "\\ud800 \\u0000 user unknown").encode()  # JSON escapes
    response = post_events(gateway, signer, body, at=now)
    assert response.status_code == 200 and response.get_json()["accepted"] == 2
    rows = {r["event_type"]: r for r in stored(app)}
    assert rows["bounce"]["reason"] == "550 \ufffd  user unknown" and len(rows["bounce"]["status"]) <= 2048
    assert rows["open"]["oie_message_id"] is None and rows["open"]["contact_campaign_id"] is None
    assert [e["type"] for e in queue.events()] == ["bounce"]  # the open names no message of the engine
    assert app.suppressions.is_suppressed("acme", "email", "lead1@example.com")


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b'[{"event": "open",', "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'[{"event": "open", "email": "\xff\xfe"}]', "not UTF-8"),
        (b'"just a string"', "array"),
        (b"42", "array"),
        (b"null", "array"),
    ],
)
def test_a_signed_delivery_that_will_never_parse_is_kept_for_audit_and_acknowledged(
    app, gateway, signer, queue, now, body, error
):
    response = post_events(gateway, signer, body, at=now)
    assert response.status_code == 200
    assert error in response.get_json()["error"]
    (delivery,) = stored(app, "webhook_deliveries")
    assert error in delivery["error"] and delivery["body_sha256"]
    assert stored(app) == [] and queue.tasks == []


@pytest.mark.parametrize("tenant", ["__x__", "..", "ACME", "a" * 300, "%00"])
def test_a_path_that_names_no_tenant_is_a_404_and_reaches_no_document(app, gateway, signer, now, tenant):
    body = json.dumps([event("open")]).encode()
    response = gateway.post(f"/webhooks/sendgrid/{tenant}", data=body, headers=signer.headers(body, now))
    assert response.status_code == 404 and response.get_json()["error"]["field"] == "tenant_id"
    assert stored(app, "webhook_deliveries") == []


def test_a_chunked_delivery_over_the_limit_is_413_on_a_real_server_and_nothing_is_stored(app, tenant, signer, now):
    from oie.devstack.gateway import build_gateway
    from oie.webhooks.events import MAX_BODY_BYTES

    chunk = b" " * (1024 * 1024)
    chunks = [b"["] + [chunk] * (MAX_BODY_BYTES // len(chunk)) + [b"]"]
    headers = signer.headers(b"".join(chunks), now)
    with serving(build_gateway()) as port:
        status, answer = post_chunked(port, "/webhooks/sendgrid/acme", chunks, headers)
        assert status == 413 and json.loads(answer)["error"]["field"] == "body"
        small = json.dumps([event("open")]).encode()
        status, answer = post_chunked(
            port, "/webhooks/sendgrid/acme", [small[:7], small[7:]], signer.headers(small, now)
        )
        assert status == 200 and json.loads(answer)["accepted"] == 1
    assert len(stored(app, "webhook_deliveries")) == 1


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
