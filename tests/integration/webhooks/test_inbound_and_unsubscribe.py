"""Inbound Parse replies and unsubscribe links through the gateway, on the emulator and DuckDB."""

import json

import pytest

from oie.suppressions.tokens import UnsubscribeClaim, mint

pytestmark = pytest.mark.firestore
TOKEN = "local-dev-only"  # settings.inbound_parse_token in tests


@pytest.fixture
def outbound(app, tenant):
    messages = app.firestore.collection("tenants").document("acme").collection("outbound_messages")
    messages.document("m1").set(
        {
            "contact_campaign_id": "cc1",
            "node_id": "step1",
            "channel": "email",
            "to_email": "ada@example.com",
            "status": "sent",
            "reply_token": "tok1abcd",
            "rfc_message_id": "<m1@mail.acme.com>",
        }
    )
    messages.document("m2").set(
        {
            "contact_campaign_id": "cc2",
            "node_id": "step1",
            "reply_token": "tok2abcd",
            "rfc_message_id": "<m2@mail.acme.com>",
        }
    )


def reply(gateway, *, to="sales@acme.com", headers="", subject="Re: our call", token=TOKEN, tenant="acme"):
    form = {
        "to": to,
        "from": "Ada <ada@example.com>",
        "subject": subject,
        "text": "Yes, let's talk Thursday.",
        "html": "<p>Yes, let's talk Thursday.</p>",
        "headers": f"Message-ID: <{abs(hash((to, headers, subject)))}@example.com>\n{headers}",
        "envelope": json.dumps({"to": [to.split("<")[-1].rstrip(">")], "from": "ada@example.com"}),
    }
    return gateway.post(f"/webhooks/inbound/{tenant}?token={token}", data=form, content_type="multipart/form-data")


def test_a_reply_is_matched_by_its_reply_to_token(app, gateway, queue, outbound):
    response = reply(gateway, to="Acme <reply+tok1abcd@reply.acme.com>")
    assert response.status_code == 200 and response.get_json()["matched_by"] == "reply_token"
    (row,) = app.warehouse.sql("select * from inbound_messages")
    assert (row["oie_message_id"], row["contact_campaign_id"], row["is_auto_reply"]) == ("m1", "cc1", False)
    (engine,) = queue.events()
    assert (engine["type"], engine["message_id"], engine["contact_campaign_id"]) == ("reply", "m1", "cc1")


def test_a_reply_without_token_is_matched_by_in_reply_to(app, gateway, queue, outbound):
    response = reply(gateway, headers="In-Reply-To: <m2@mail.acme.com>\nReferences: <m2@mail.acme.com>")
    assert response.get_json()["matched_by"] == "in_reply_to"
    assert [e["message_id"] for e in queue.events()] == ["m2"]


def test_the_same_reply_posted_twice_is_stored_and_enqueued_once(app, gateway, queue, outbound):
    for _ in range(2):
        reply(gateway, to="reply+tok1abcd@reply.acme.com")
    assert app.warehouse.sql("select count(*) as n from inbound_messages") == [{"n": 1}]
    assert len(queue.tasks) == 1


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ("Auto-Submitted: auto-replied", "Re: our call"),
        ("X-Autoreply: yes", "Re: our call"),
        ("Precedence: auto_reply", "Re: our call"),
        ("", "Out of Office: back on Monday"),
        ("", "Abwesenheitsnotiz: bis 12.3."),
        ("", "Réponse automatique : absent"),
    ],
)
def test_an_auto_reply_is_stored_but_is_not_a_reply(app, gateway, queue, outbound, headers, subject):
    response = reply(gateway, to="reply+tok1abcd@reply.acme.com", headers=headers, subject=subject)
    assert response.get_json()["is_auto_reply"] is True
    (row,) = app.warehouse.sql("select is_auto_reply, oie_message_id from inbound_messages")
    assert row == {"is_auto_reply": True, "oie_message_id": "m1"}
    assert queue.tasks == []


def test_a_wrong_parse_token_is_refused_and_nothing_is_stored(app, gateway, queue, outbound):
    response = reply(gateway, to="reply+tok1abcd@reply.acme.com", token="guess")
    assert response.status_code == 403
    assert app.warehouse.sql("select * from inbound_messages") == [] and queue.tasks == []


def test_another_tenants_token_matches_nothing(app, gateway, queue, outbound, signer):
    from tests.integration.webhooks.helpers import seed_tenant

    seed_tenant(app, signer, "globex")
    response = reply(gateway, to="reply+tok1abcd@reply.globex.com", tenant="globex")
    assert response.get_json()["matched_by"] is None and queue.tasks == []


def unsubscribe_token(app, contact_campaign_id="cc1"):
    claim = UnsubscribeClaim(tenant_id="acme", address="ada@example.com", contact_campaign_id=contact_campaign_id)
    return mint(app.derived_key("unsubscribe"), claim)


def test_the_unsubscribe_link_shows_a_confirmation_page_and_changes_nothing(app, gateway, queue):
    response = gateway.get(f"/webhooks/unsubscribe?t={unsubscribe_token(app)}")
    assert response.status_code == 200 and b'<form method="post"' in response.data and b"<script" not in response.data
    assert not app.suppressions.is_suppressed("acme", "email", "ada@example.com") and queue.tasks == []


@pytest.mark.parametrize(
    ("form", "source"), [({"List-Unsubscribe": "One-Click"}, "one_click"), ({"confirm": "yes"}, "link")]
)
def test_a_post_unsubscribes_at_once_and_stops_the_plan(app, gateway, queue, tenant, form, source):
    response = gateway.post(f"/webhooks/unsubscribe?t={unsubscribe_token(app)}", data=form)
    assert response.status_code == 200
    assert app.suppressions.is_suppressed("acme", "email", "ada@example.com")
    (engine,) = queue.events()
    assert (engine["type"], engine["contact_campaign_id"], engine["details"]["source"]) == (
        "unsubscribe",
        "cc1",
        source,
    )
    (row,) = app.warehouse.sql("select source, event_type from message_events")
    assert row == {"source": source, "event_type": "unsubscribe"}
    gateway.post(f"/webhooks/unsubscribe?t={unsubscribe_token(app)}", data=form)  # twice: nothing more
    assert len(queue.tasks) == 1


def test_a_forged_unsubscribe_token_is_a_400_page_and_nothing_is_stored(app, gateway, queue):
    forged = unsubscribe_token(app)[:-2] + "AA"
    response = gateway.post(f"/webhooks/unsubscribe?t={forged}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400 and b"not valid" in response.data
    assert not app.suppressions.is_suppressed("acme", "email", "ada@example.com")
    assert app.warehouse.sql("select * from message_events") == [] and queue.tasks == []


def test_an_unknown_webhook_path_is_a_404(gateway):
    assert gateway.post("/webhooks/nope", data=b"").status_code == 404
