"""Pure parts of the webhooks: de-dup keys, signature checks, auto-reply recognition, reply tokens."""

from datetime import UTC, datetime
from email.parser import HeaderParser

import pytest

from oie.errors import Forbidden, Unauthenticated
from oie.webhooks.autoreply import auto_reply_reasons
from oie.webhooks.dedup import event_key
from oie.webhooks.inbound import reply_tokens
from oie.webhooks.models import SendGridEvent
from oie.webhooks.signature import verify
from oie.webhooks.signer import LocalSigner

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
SIGNER = LocalSigner.generate()


def sg(**fields):
    base = {
        "email": "a@example.com",
        "timestamp": 1772443000,
        "event": "click",
        "sg_event_id": "e1",
        "sg_message_id": "m1.filter",
        "url": "https://x/a",
    }
    return SendGridEvent.model_validate({**base, **fields})


def test_a_retry_with_a_changed_sg_event_id_keeps_its_key():
    assert event_key("acme", sg()) == event_key("acme", sg(sg_event_id="e1-changed"))


@pytest.mark.parametrize(
    "change", [{"timestamp": 1772443001}, {"url": "https://x/b"}, {"event": "open"}, {"sg_message_id": "m2"}]
)
def test_a_different_event_gets_a_different_key(change):
    assert event_key("acme", sg()) != event_key("acme", sg(**change))


def test_keys_never_cross_tenants():
    assert event_key("acme", sg()) != event_key("globex", sg())


def test_the_url_only_counts_for_clicks():
    assert event_key("acme", sg(event="open")) == event_key("acme", sg(event="open", url="https://x/b"))


def test_a_valid_signature_verifies():
    body = b'[{"event":"open"}]'
    stamp = str(int(NOW.timestamp()))
    assert verify(SIGNER.public_key_b64, body, SIGNER.sign(body, stamp), stamp, NOW, 600) == NOW


@pytest.mark.parametrize(
    ("age", "tamper", "error"),
    [(0, b"x", Forbidden), (601, b"", Unauthenticated), (-601, b"", Unauthenticated)],
)
def test_forged_or_stale_deliveries_are_refused(age, tamper, error):
    body = b'[{"event":"open"}]'
    stamp = str(int(NOW.timestamp()) - age)
    with pytest.raises(error):
        verify(SIGNER.public_key_b64, body + tamper, SIGNER.sign(body, stamp), stamp, NOW, 600)


def test_a_signature_from_another_key_is_refused():
    body, stamp = b"[]", str(int(NOW.timestamp()))
    with pytest.raises(Forbidden):
        verify(SIGNER.public_key_b64, body, LocalSigner.generate().sign(body, stamp), stamp, NOW, 600)


def test_garbage_signatures_and_keys_are_refused_not_crashes():
    stamp = str(int(NOW.timestamp()))
    with pytest.raises(Forbidden):
        verify(SIGNER.public_key_b64, b"[]", "%%%not-base64", stamp, NOW, 600)
    with pytest.raises(Forbidden):
        verify("bm90IGEga2V5", b"[]", "AAAA", stamp, NOW, 600)


@pytest.mark.parametrize(
    ("headers", "subject", "automatic"),
    [
        ("Auto-Submitted: auto-replied", "Re: hi", True),
        ("Auto-Submitted: no", "Re: hi", False),
        ("X-Auto-Response-Suppress: All", "Re: hi", True),
        ("Precedence: bulk", "Re: hi", True),
        ("", "Automatic reply: Re: hi", True),
        ("", "Abwesenheitsnotiz: AW: hi", True),
        ("", "Respuesta automática: fuera", True),
        ("", "Re: out of office software question", False),
        ("", "Re: hi, sounds good", False),
    ],
)
def test_auto_replies_are_recognised(headers, subject, automatic):
    assert bool(auto_reply_reasons(HeaderParser().parsestr(headers), subject)) is automatic


def test_reply_tokens_are_read_from_addresses_on_the_tenants_reply_domain_only():
    to = ["Acme <reply+Tok_1234@reply.acme.com>, other@acme.com", "reply+evil1234@elsewhere.com"]
    assert reply_tokens(to, "reply.acme.com") == ["Tok_1234"]


def test_a_signed_body_that_is_not_utf8_still_verifies_so_it_can_be_kept_as_unreadable():
    body, stamp = b'[{"email": "\xff\xfe"}]', str(int(NOW.timestamp()))
    assert verify(SIGNER.public_key_b64, body, SIGNER.sign(body, stamp), stamp, NOW, 600) == NOW
    with pytest.raises(Forbidden):
        verify(SIGNER.public_key_b64, body + b"\xff", SIGNER.sign(body, stamp), stamp, NOW, 600)


@pytest.mark.parametrize("stamp", ["\u00b2", "9" * 5000, "1e9", "", "-1" * 3, str(2**63)])
def test_a_timestamp_header_that_is_no_unix_time_is_refused_not_a_crash(stamp):
    with pytest.raises((Unauthenticated, Forbidden)):
        verify(SIGNER.public_key_b64, b"[]", SIGNER.sign(b"[]", "1"), stamp, NOW, 600)
