"""The SendGrid mailer through the real `sendgrid` library, pointed at a local HTTP server.

The campaign service runs on in-memory ports with the production mailer, so what is asserted
is the exact v3 request a campaign step makes and what each answer does to the message.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace

import pytest

from oie import deadlines, wiring
from oie.adapters.sendgrid_mailer import SendGridMailer, SendGridUnavailable, VerifiedSender
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.sending import Links, MaybeSent, dedup_key, message_id_for
from oie.campaigns.service import CampaignService, StepNotReady, StepPayload
from oie.devstack.emulator import free_port
from oie.errors import BackendUnavailable, InputError, status_for
from oie.ports import OutboundEmail
from oie.suppressions import tokens
from tests.conftest import make_settings
from tests.integration.adapters.recording_server import Answer, RecordingServer
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import make_plan, make_state
from tests.unit.campaigns.send_fakes import memory_service

API_KEY = "SG.test-key.not-a-secret"
UNSUB_KEY = b"u" * 32
MESSAGE_KEY = b"m" * 32
SENDER = SenderIdentity(
    sender_id="sdr", from_email="sam@acme.com", from_name="Sam Rep", verification="verified", ip_pool="warm-1"
)
CCID = "q1_ld_0000000000000001_email"
ACCEPTED = Answer(202, {"X-Message-Id": "sg-msg-42"})


def service(mailer: SendGridMailer) -> CampaignService:
    return memory_service(
        senders=fakes.MemorySenders(SENDER),
        mailer=mailer,
        links=Links("https://links.acme.com", "https://fn.acme.com", UNSUB_KEY),
        message_key=MESSAGE_KEY,
        message_id_header=True,  # as wiring sets it for SendGrid
    )


@pytest.fixture
def sendgrid() -> Iterator[Callable[..., RecordingServer]]:
    """Start local SendGrid stand-ins answering as scripted; all stopped at the end."""
    with ExitStack() as stack:
        yield lambda *answers: stack.enter_context(RecordingServer(*answers))


def first_step(svc: CampaignService) -> StepPayload:
    svc.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    return StepPayload.model_validate(svc.tasks.tasks[0].payload)


def the_message_id() -> str:
    return message_id_for(MESSAGE_KEY, dedup_key(make_state(make_plan()), "intro"))


def test_a_campaign_step_posts_the_exact_v3_mail_send_request(sendgrid):
    server = sendgrid(ACCEPTED)
    svc = service(SendGridMailer(API_KEY, host=server.url))
    assert svc.run_step(first_step(svc)) == "sent"

    (request,) = server.requests
    assert (request.method, request.path, request.query) == ("POST", "/v3/mail/send", {})
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "sendgrid/6.12.5;python"
    mid = the_message_id()
    unsubscribe = "https://fn.acme.com/webhooks/unsubscribe?t=" + tokens.mint_ref(
        UNSUB_KEY, tokens.UnsubscribeRef(tenant_id="acme", message_id=mid)
    )
    body = json.loads(request.body)
    text, html = body.pop("content")
    assert sorted(body.pop("categories")) == ["oie", "tenant-acme"]  # a set to SendGrid; the helper prepends
    assert body == {
        "from": {"email": "sam@acme.com", "name": "Sam Rep"},
        "subject": "Hi Ada",
        "personalizations": [{"to": [{"email": "ada@example.com", "name": "Ada Lovelace"}]}],
        "reply_to": {"email": f"reply+{mid}@reply.acme.com"},
        "headers": {
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<{mid}@acme.com>",
        },
        # What the Event Webhook hands back on every event: it maps the event to the message.
        "custom_args": {
            "tenant_id": "acme",
            "contact_campaign_id": CCID,
            "campaign_id": "q1",
            "node_id": "intro",
            "oie_message_id": mid,
        },
        "ip_pool_name": "warm-1",
    }
    # Links on the tenant's domains go through /go; others are left alone; unsubscribe in both parts.
    pricing = "https://links.acme.com/go?i=ab3f9k2q&to=https%3A%2F%2Fwww.acme.com%2Fpricing"
    assert text == {
        "type": "text/plain",
        "value": f"Hello Ada at Engines: {pricing} and https://other.example/x\n\n--\nUnsubscribe: {unsubscribe}\n",
    }
    assert html == {
        "type": "text/html",
        "value": f'<p>Hello Ada</p><a href="{pricing.replace("&", "&amp;")}%3Fa%3D1%26b%3D2">pricing</a>'
        '<a href="https://other.example/x">other</a>'
        f'<p style="font-size:12px;color:#777"><a href="{unsubscribe}">Unsubscribe</a></p>',
    }

    stored = svc.steps.messages.items[mid]
    assert stored["status"] == "sent" and stored["provider_message_id"] == "sg-msg-42"


def test_a_text_only_email_sends_no_empty_html_part(sendgrid):
    server = sendgrid(ACCEPTED)
    email = OutboundEmail(
        message_id="m1", to_email="ada@example.com", from_email="sam@acme.com", subject="s", html="", text="t"
    )
    SendGridMailer(API_KEY, host=server.url).send(email)
    # SendGrid refuses a content value shorter than one character with a 400.
    assert json.loads(server.requests[0].body)["content"] == [{"type": "text/plain", "value": "t"}]


def test_a_400_is_recorded_as_failed_and_never_sent_again(sendgrid):
    refusal = {"errors": [{"message": "Does not contain a valid address.", "field": "personalizations.0.to.0.email"}]}
    server = sendgrid(Answer(400, {"Content-Type": "application/json"}, json.dumps(refusal).encode()), ACCEPTED)
    svc = service(SendGridMailer(API_KEY, host=server.url))
    step = first_step(svc)
    assert svc.run_step(step) == "failed"
    stored = svc.steps.messages.items[the_message_id()]
    assert stored["status"] == "failed"
    assert (
        stored["error"]
        == "sendgrid refused the message (400): personalizations.0.to.0.email: Does not contain a valid address."
    )
    assert svc.states.get("acme", CCID).pending is None
    assert svc.run_step(step) != "sent" and len(server.requests) == 1


@pytest.mark.parametrize("status", [401, 403, 429, 500, 502, 503])
def test_auth_rate_limit_and_server_errors_release_the_message_for_cloud_tasks_to_retry(sendgrid, status):
    server = sendgrid(Answer(status, {"Content-Type": "application/json"}, b'{"errors":[{"message":"no"}]}'), ACCEPTED)
    svc = service(SendGridMailer(API_KEY, host=server.url))
    step = first_step(svc)
    with pytest.raises(BackendUnavailable) as raised:
        svc.run_step(step)
    assert status_for(raised.value) == 503  # campaign_step answers 503: Cloud Tasks backs off and retries
    assert the_message_id() not in svc.steps.messages.items
    assert svc.run_step(step) == "sent" and len(server.requests) == 2


def test_a_429_says_when_sendgrid_lets_us_send_again(sendgrid):
    reset = int(time.time()) + 40
    server = sendgrid(
        Answer(429, {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
    )
    with pytest.raises(SendGridUnavailable) as raised:
        SendGridMailer(API_KEY, host=server.url).send(OUTBOUND)
    assert raised.value.retry_after is not None and 35 <= raised.value.retry_after <= 41
    server.answers = [Answer(429, {"Retry-After": "7"})]
    with pytest.raises(SendGridUnavailable) as raised:
        SendGridMailer(API_KEY, host=server.url).send(OUTBOUND)
    assert raised.value.retry_after == 7


def test_a_provider_that_never_answers_is_cut_off_and_the_message_is_not_sent_twice(sendgrid):
    server = sendgrid(Answer(hang=True), ACCEPTED)
    svc = service(SendGridMailer(API_KEY, host=server.url, timeout=0.5))
    step = first_step(svc)
    started = time.monotonic()
    with pytest.raises(MaybeSent):
        svc.run_step(step)
    assert time.monotonic() - started < 3
    # SendGrid may have accepted it: the claim stays, so the retry waits instead of sending again.
    assert svc.steps.messages.items[the_message_id()]["status"] == "queued"
    with pytest.raises(StepNotReady):
        svc.run_step(step)
    assert len(server.requests) == 1


def test_every_call_gets_the_running_functions_http_budget(sendgrid, monkeypatch):
    monkeypatch.setitem(deadlines.BUDGETS, "cli", replace(deadlines.BUDGETS["cli"], http_seconds=0.4))
    server = sendgrid(Answer(hang=True))
    started = time.monotonic()
    with pytest.raises(MaybeSent):
        SendGridMailer(API_KEY, host=server.url).send(OUTBOUND)
    assert time.monotonic() - started < 2.5


def test_an_unreachable_provider_sent_nothing_and_is_retried():
    svc = service(SendGridMailer(API_KEY, host=f"http://127.0.0.1:{free_port()}", timeout=2))
    step = first_step(svc)
    with pytest.raises(BackendUnavailable) as raised:
        svc.run_step(step)
    assert not isinstance(raised.value, MaybeSent)
    assert the_message_id() not in svc.steps.messages.items


OUTBOUND = OutboundEmail(
    message_id="m1", to_email="ada@example.com", from_email="sam@acme.com", subject="s", html="<p>h</p>", text="t"
)


def test_the_deployment_sends_through_the_configured_host(sendgrid, tmp_path):
    server = sendgrid(ACCEPTED)
    settings = make_settings(tmp_path, mailer="sendgrid", sendgrid_api_key=API_KEY, sendgrid_host=server.url + "/")
    assert wiring.Container(settings).mailer.send(OUTBOUND) == "sg-msg-42"
    assert server.requests[0].path == "/v3/mail/send"  # a trailing slash in the setting is not doubled


def senders_page(*ids: int) -> bytes:
    return json.dumps(
        {
            "results": [
                {
                    "id": i,
                    "nickname": f"n{i}",
                    "from_email": f"s{i}@acme.com",
                    "from_name": f"Sender {i}",
                    "reply_to": f"s{i}@acme.com",
                    "verified": i % 2 == 0,
                    "locked": i == 4,
                }
                for i in ids
            ]
        }
    ).encode()


def test_verified_senders_lists_every_identity_with_its_state_page_by_page(sendgrid):
    json_type = {"Content-Type": "application/json"}
    server = sendgrid(Answer(200, json_type, senders_page(1, 2)), Answer(200, json_type, senders_page(4)))
    found = SendGridMailer(API_KEY, host=server.url, page_size=2).verified_senders()
    assert found == [
        VerifiedSender(sender_id=1, from_email="s1@acme.com", from_name="Sender 1", verified=False, locked=False),
        VerifiedSender(sender_id=2, from_email="s2@acme.com", from_name="Sender 2", verified=True, locked=False),
        VerifiedSender(sender_id=4, from_email="s4@acme.com", from_name="Sender 4", verified=True, locked=True),
    ]
    assert [(r.method, r.path, r.query) for r in server.requests] == [
        ("GET", "/v3/verified_senders", {"limit": ["2"]}),
        ("GET", "/v3/verified_senders", {"lastSeenID": ["2"], "limit": ["2"]}),
    ]
    assert all(r.headers["authorization"] == f"Bearer {API_KEY}" and not r.body for r in server.requests)
    assert [s.verification for s in found] == ["pending", "verified", "verified"]


@pytest.mark.parametrize(("status", "error"), [(401, BackendUnavailable), (429, BackendUnavailable), (400, InputError)])
def test_verified_senders_says_whether_asking_again_can_help(sendgrid, status, error):
    server = sendgrid(Answer(status, {}, b'{"errors":[{"field":null,"message":"bad"}]}'))
    with pytest.raises(error):
        SendGridMailer(API_KEY, host=server.url).verified_senders()
