"""The outbox mailer writes real .eml files; SendGrid's request body is built as its API expects.

The SendGrid adapter's HTTP exchanges run against a local server in
tests/integration/adapters/test_sendgrid_mailer.py.
"""

import email
import json

import pytest

from oie.adapters.outbox_mailer import OutboxMailer
from oie.adapters.sendgrid_mailer import SendGridMailer, build_mail
from oie.ports import OutboundEmail

MESSAGE = OutboundEmail(
    message_id="acme:c1:q1:intro:email",
    to_email="ada@example.com",
    to_name="Ada",
    from_email="sam@acme.com",
    from_name="Sam",
    reply_to="reply+tok@reply.acme.com",
    subject="Hello Ada",
    html="<p>Hi <a href='https://links.acme.com/go?i=ab3f9k2q'>see</a></p>",
    text="Hi, see https://links.acme.com/go?i=ab3f9k2q",
    headers={
        "List-Unsubscribe": "<https://acme.com/u/x>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    },
    custom_args={"tenant_id": "acme", "contact_campaign_id": "c1"},
)


def test_the_outbox_writes_a_message_a_mail_client_can_open(tmp_path):
    OutboxMailer(tmp_path).send(MESSAGE)
    (path,) = tmp_path.glob("*.eml")
    parsed = email.message_from_bytes(path.read_bytes())
    assert parsed["To"] == "Ada <ada@example.com>" and parsed["Subject"] == "Hello Ada"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert json.loads(parsed["X-OIE-Custom-Args"])["tenant_id"] == "acme"
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}


def test_sendgrid_requests_carry_custom_args_headers_and_reply_to():
    body = build_mail(MESSAGE).get()
    assert body["custom_args"] == {
        "tenant_id": "acme",
        "contact_campaign_id": "c1",
        "oie_message_id": MESSAGE.message_id,
    }
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["reply_to"] == {"email": "reply+tok@reply.acme.com"}
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert sorted(body["categories"]) == ["oie", "tenant-acme"]


def test_an_empty_part_is_left_out_because_sendgrid_refuses_empty_content():
    body = build_mail(MESSAGE.model_copy(update={"html": ""})).get()
    assert body["content"] == [{"type": "text/plain", "value": MESSAGE.text}]


@pytest.mark.parametrize("host", ["http://api.sendgrid.com", "ftp://127.0.0.1", "api.sendgrid.com"])
def test_the_api_key_is_only_sent_over_tls_or_to_this_machine(host):
    with pytest.raises(ValueError, match="https"):
        SendGridMailer("SG.k", host=host)


def test_long_list_unsubscribe_urls_are_written_as_is_not_encoded(tmp_path):
    url = "https://links.acme.com/webhooks/unsubscribe?t=" + "x" * 300
    OutboxMailer(tmp_path).send(MESSAGE.model_copy(update={"headers": {"List-Unsubscribe": f"<{url}>"}}))
    raw = next(tmp_path.glob("*.eml")).read_bytes().decode()
    assert f"List-Unsubscribe: <{url}>\r\n" in raw and "=?utf-8?" not in raw
