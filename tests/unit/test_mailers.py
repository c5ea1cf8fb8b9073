"""The outbox mailer writes real .eml files; the SendGrid adapter speaks real HTTP to a local stand-in."""

import email
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from oie.adapters.outbox_mailer import OutboxMailer
from oie.adapters.sendgrid_mailer import SendGridMailer, build_mail
from oie.errors import BackendUnavailable, InputError
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


class FakeSendGrid:
    """SendGrid's servers cannot run here: a local HTTP stand-in answering like v3 mail/send."""

    def __init__(self, status: int) -> None:
        self.requests: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, dict(self.headers), body))
                self.send_response(status)
                self.send_header("X-Message-Id", "sg-123")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_sendgrid_adapter_posts_mail_send_and_returns_the_message_id():
    fake = FakeSendGrid(202)
    try:
        assert SendGridMailer("SG.test-key", host=fake.url).send(MESSAGE) == "sg-123"
        path, headers, body = fake.requests[0]
        assert path == "/v3/mail/send" and headers["Authorization"] == "Bearer SG.test-key"
        assert body["personalizations"][0]["to"] == [{"email": "ada@example.com", "name": "Ada"}]
    finally:
        fake.close()


@pytest.mark.parametrize(("status", "error"), [(429, BackendUnavailable), (503, BackendUnavailable), (400, InputError)])
def test_sendgrid_failures_say_whether_to_retry(status, error):
    fake = FakeSendGrid(status)
    try:
        with pytest.raises(error):
            SendGridMailer("SG.k", host=fake.url).send(MESSAGE)
    finally:
        fake.close()


def test_long_list_unsubscribe_urls_are_written_as_is_not_encoded(tmp_path):
    url = "https://links.acme.com/webhooks/unsubscribe?t=" + "x" * 300
    OutboxMailer(tmp_path).send(MESSAGE.model_copy(update={"headers": {"List-Unsubscribe": f"<{url}>"}}))
    raw = next(tmp_path.glob("*.eml")).read_bytes().decode()
    assert f"List-Unsubscribe: <{url}>\r\n" in raw and "=?utf-8?" not in raw
