"""Inbound Parse replies and unsubscribe links through the gateway, on the emulator and DuckDB."""

import base64
import hashlib
import json
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from oie.suppressions.tokens import UnsubscribeClaim, mint
from oie.webhooks.cli import webhooks

pytestmark = pytest.mark.firestore
LEGACY_TOKEN = "local-dev-only"  # settings.inbound_parse_token in tests


def set_up_inbound_parse(tenant_id="acme"):
    """What a tenant's operator runs: a credential, and the URL to paste into SendGrid."""
    result = CliRunner().invoke(
        webhooks, ["inbound-credential", "--tenant", tenant_id, "--base", "https://fn.example.com"]
    )
    assert result.exit_code == 0, result.output
    url = next(word for word in result.output.split() if word.startswith("https://"))
    parts = urlsplit(url)
    assert parts.path == f"/webhooks/inbound/{tenant_id}" and not parts.query  # nothing secret in the query
    return parts.username, parts.password


@pytest.fixture
def credentials(app, tenant):
    return set_up_inbound_parse()


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


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


def reply(gateway, *, to="sales@acme.com", headers="", subject="Re: our call", auth=None, tenant="acme", query=""):
    form = {
        "to": to,
        "from": "Ada <ada@example.com>",
        "subject": subject,
        "text": "Yes, let's talk Thursday.",
        "html": "<p>Yes, let's talk Thursday.</p>",
        "headers": f"Message-ID: <{abs(hash((to, headers, subject)))}@example.com>\n{headers}",
        "envelope": json.dumps({"to": [to.split("<")[-1].rstrip(">")], "from": "ada@example.com"}),
    }
    return gateway.post(
        f"/webhooks/inbound/{tenant}{query}",
        data=form,
        content_type="multipart/form-data",
        headers=basic(*auth) if auth else {},
    )


def test_a_reply_is_matched_by_its_reply_to_token(app, gateway, queue, outbound, credentials):
    response = reply(gateway, to="Acme <reply+tok1abcd@reply.acme.com>", auth=credentials)
    assert response.status_code == 200 and response.get_json()["matched_by"] == "reply_token"
    (row,) = app.warehouse.sql("select * from inbound_messages")
    assert (row["oie_message_id"], row["contact_campaign_id"], row["is_auto_reply"]) == ("m1", "cc1", False)
    (engine,) = queue.events()
    assert (engine["type"], engine["message_id"], engine["contact_campaign_id"]) == ("reply", "m1", "cc1")


def test_a_reply_without_token_is_matched_by_in_reply_to(app, gateway, queue, outbound, credentials):
    response = reply(
        gateway, headers="In-Reply-To: <m2@mail.acme.com>\nReferences: <m2@mail.acme.com>", auth=credentials
    )
    assert response.get_json()["matched_by"] == "in_reply_to"
    assert [e["message_id"] for e in queue.events()] == ["m2"]


def test_the_same_reply_posted_twice_is_stored_and_enqueued_once(app, gateway, queue, outbound, credentials):
    for _ in range(2):
        reply(gateway, to="reply+tok1abcd@reply.acme.com", auth=credentials)
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
def test_an_auto_reply_is_stored_but_is_not_a_reply(app, gateway, queue, outbound, credentials, headers, subject):
    response = reply(gateway, to="reply+tok1abcd@reply.acme.com", headers=headers, subject=subject, auth=credentials)
    assert response.get_json()["is_auto_reply"] is True
    (row,) = app.warehouse.sql("select is_auto_reply, oie_message_id from inbound_messages")
    assert row == {"is_auto_reply": True, "oie_message_id": "m1"}
    assert queue.tasks == []


def test_a_wrong_or_missing_credential_is_a_401_and_nothing_is_stored(app, gateway, queue, outbound, credentials):
    user, password = credentials
    for auth in (None, (user, "guess"), (user, password[:-1]), ("globex", password), (user, password + "x")):
        response = reply(gateway, to="reply+tok1abcd@reply.acme.com", auth=auth)
        assert response.status_code == 401, auth
        assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert app.warehouse.sql("select * from inbound_messages") == [] and queue.tasks == []


def test_a_tenants_credential_never_works_on_another_tenants_path(app, gateway, queue, outbound, credentials, signer):
    from tests.integration.webhooks.helpers import seed_tenant

    seed_tenant(app, signer, "globex")
    globex = set_up_inbound_parse("globex")
    assert reply(gateway, to="reply+tok1abcd@reply.acme.com", auth=globex, tenant="acme").status_code == 401
    assert reply(gateway, to="reply+tok1abcd@reply.acme.com", auth=credentials, tenant="globex").status_code == 401
    assert reply(gateway, auth=credentials, tenant="nosuch").status_code == 401  # unknown tenants look the same
    assert reply(gateway, to="reply+x1234@reply.globex.com", auth=globex, tenant="globex").status_code == 200
    assert app.warehouse.sql("select tenant_id from inbound_messages") == [{"tenant_id": "globex"}]


def test_the_tenant_stores_only_a_hash_of_its_credential(app, credentials):
    _, password = credentials
    stored = json.dumps(app.firestore.collection("tenants").document("acme").get().to_dict())
    assert password not in stored and "inbound_parse_credential" in stored


def test_the_old_query_string_token_is_refused_by_default(app, gateway, queue, outbound):
    response = reply(gateway, to="reply+tok1abcd@reply.acme.com", query=f"?token={LEGACY_TOKEN}")
    assert response.status_code == 401 and "basic" in response.get_json()["error"]["message"].lower()
    assert app.warehouse.sql("select * from inbound_messages") == []


def test_the_old_token_works_when_allowed_and_only_for_tenants_without_a_credential(app, gateway, queue, outbound):
    app.settings = app.settings.model_copy(update={"inbound_parse_accept_legacy_token": True})
    legacy = f"?token={LEGACY_TOKEN}"
    assert reply(gateway, to="reply+tok1abcd@reply.acme.com", query=legacy).status_code == 200
    set_up_inbound_parse()  # once the tenant has its own credential, the shared token stops working for it
    assert reply(gateway, to="reply+tok1abcd@reply.acme.com", query=legacy, subject="again").status_code == 401
    assert reply(gateway, to="reply+tok1abcd@reply.acme.com", query="?token=guess", subject="x").status_code == 401


def test_another_tenants_token_matches_nothing(app, gateway, queue, outbound, signer):
    from tests.integration.webhooks.helpers import seed_tenant

    seed_tenant(app, signer, "globex")
    response = reply(
        gateway, to="reply+tok1abcd@reply.globex.com", tenant="globex", auth=set_up_inbound_parse("globex")
    )
    assert response.get_json()["matched_by"] is None and queue.tasks == []


def unsubscribe_link(app, message_id="m1"):
    """The link the campaign engine writes into message m1 (to ada@example.com, contact campaign cc1)."""
    from oie.campaigns.sending import Links

    links = Links("https://go.acme.com", "http://127.0.0.1:8080", app.derived_key("unsubscribe"))
    return links.unsubscribe("acme", message_id).removeprefix("http://127.0.0.1:8080")


def legacy_link(app, contact_campaign_id="cc1"):
    """A link of mail sent before the opaque tokens: the address in readable base64."""
    claim = UnsubscribeClaim(tenant_id="acme", address="ada@example.com", contact_campaign_id=contact_campaign_id)
    return f"/webhooks/unsubscribe?t={mint(app.derived_key('unsubscribe'), claim)}"


def test_the_unsubscribe_link_carries_no_address_not_even_encoded(app):
    link = unsubscribe_link(app)
    token = link.split("t=", 1)[1]
    decoded = b"".join(
        base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".") if len(part) % 4 != 1
    )
    for form in (b"ada@example.com", hashlib.sha256(b"ada@example.com").hexdigest().encode()):
        assert form not in link.encode() and form not in decoded


def test_the_unsubscribe_link_shows_a_confirmation_page_and_changes_nothing(app, gateway, queue, outbound):
    response = gateway.get(unsubscribe_link(app))
    assert response.status_code == 200 and b'<form method="post"' in response.data and b"<script" not in response.data
    assert b"ada@example.com" not in response.data  # a forwarded email must not show whose it was
    assert not app.suppressions.is_suppressed("acme", "email", "ada@example.com") and queue.tasks == []


@pytest.mark.parametrize(
    ("form", "source"), [({"List-Unsubscribe": "One-Click"}, "one_click"), ({"confirm": "yes"}, "link")]
)
def test_a_post_unsubscribes_at_once_and_stops_the_plan(app, gateway, queue, outbound, form, source):
    response = gateway.post(unsubscribe_link(app), data=form)
    assert response.status_code == 200 and b"ada@example.com" not in response.data
    assert app.suppressions.is_suppressed("acme", "email", "ada@example.com")
    (engine,) = queue.events()
    assert (engine["type"], engine["contact_campaign_id"], engine["details"]["source"]) == (
        "unsubscribe",
        "cc1",
        source,
    )
    (row,) = app.warehouse.sql("select source, event_type from message_events")
    assert row == {"source": source, "event_type": "unsubscribe"}
    gateway.post(unsubscribe_link(app), data=form)  # twice: nothing more
    assert len(queue.tasks) == 1


def test_a_forged_or_altered_unsubscribe_token_is_a_400_page_and_nothing_is_stored(app, gateway, queue, outbound):
    link = unsubscribe_link(app)
    for forged in (
        link[:-2] + "AA",
        link.replace("acme", "beta"),
        link.replace(".m1.", ".m2."),
        "/webhooks/unsubscribe?t=x",
    ):
        response = gateway.post(forged, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400 and b"not valid" in response.data, forged
    assert not app.suppressions.is_suppressed("acme", "email", "ada@example.com")
    assert app.warehouse.sql("select * from message_events") == [] and queue.tasks == []


def test_a_link_whose_message_is_gone_unsubscribes_nobody_and_says_done(app, gateway, queue, outbound):
    response = gateway.post(unsubscribe_link(app, "m-gone"), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert app.warehouse.sql("select * from message_events") == [] and queue.tasks == []


def test_links_in_mail_sent_before_the_change_still_unsubscribe(app, gateway, queue, tenant):
    response = gateway.post(legacy_link(app), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"ada@example.com" not in response.data
    assert app.suppressions.is_suppressed("acme", "email", "ada@example.com")
    assert [e["contact_campaign_id"] for e in queue.events()] == ["cc1"]


def test_old_links_are_refused_once_the_setting_retires_them(app, gateway, queue, tenant):
    app.settings = app.settings.model_copy(update={"unsubscribe_accept_legacy_links": False})
    assert gateway.post(legacy_link(app), data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert not app.suppressions.is_suppressed("acme", "email", "ada@example.com")


def test_an_unknown_webhook_path_is_a_404(gateway):
    assert gateway.post("/webhooks/nope", data=b"").status_code == 404


class EchoingWarehouse:
    """A warehouse whose errors quote the rows, as DuckDB's conversion errors do."""

    def __init__(self, real):
        self.real = real

    def insert_rows(self, table, rows, *, id_field):
        raise RuntimeError(f"Conversion Error: Malformed JSON. Input: {json.dumps(rows, default=str)}")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_warehouse_error_never_echoes_the_reply_in_the_answer_or_the_logs(
    app, gateway, queue, outbound, credentials, capsys
):
    app.warehouse = EchoingWarehouse(app.warehouse)
    response = reply(gateway, to="reply+tok1abcd@reply.acme.com", auth=credentials)
    assert response.status_code == 503  # SendGrid retries it later
    out = capsys.readouterr()
    for leaked in ("ada@example.com", "Thursday"):
        assert leaked not in response.get_data(as_text=True) and leaked not in out.out + out.err
