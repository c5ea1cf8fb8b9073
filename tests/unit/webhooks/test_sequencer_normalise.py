"""Smartlead's and Instantly's posts, in every documented shape, as normalised events and keys."""

from datetime import UTC, datetime

import pytest

from oie.errors import InputError
from oie.webhooks.models import InvalidEvent
from oie.webhooks.sequencers.normalise import Unknown, event_key, normalise, parse_delivery
from tests.unit.webhooks.sequencer_payloads import instantly, smartlead, smartlead_deprecated, smartlead_nested


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("EMAIL_SENT", "processed"),
        ("FIRST_EMAIL_SENT", "processed"),
        ("EMAIL_OPEN", "open"),
        ("EMAIL_LINK_CLICK", "click"),
        ("EMAIL_REPLY", "reply"),
        ("EMAIL_BOUNCE", "bounce"),
        ("LEAD_UNSUBSCRIBED", "unsubscribe"),
    ],
)
def test_smartlead_events_take_the_types_sendgrid_rows_use(kind, expected):
    event = normalise("smartlead", smartlead(kind))
    assert not isinstance(event, Unknown)
    assert (event.event_type, event.email, event.provider_campaign_id) == (expected, "ada@example.com", "4711")
    assert event.occurred_at == datetime(2026, 3, 2, 9, 10, 0, 125000, tzinfo=UTC)
    assert event.provider_message_id == "<sl-1@acme.com>" and event.step == 1


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("email_sent", "processed"),
        ("email_opened", "open"),
        ("email_link_clicked", "click"),
        ("reply_received", "reply"),
        ("email_bounced", "bounce"),
        ("lead_unsubscribed", "unsubscribe"),
    ],
)
def test_instantly_events_take_the_types_sendgrid_rows_use(kind, expected):
    event = normalise("instantly", instantly(kind))
    assert not isinstance(event, Unknown)
    assert (event.event_type, event.email, event.step) == (expected, "ada@example.com", 1)
    assert event.provider_message_id == "0192f0c4-0000-7000-8000-00000000e1e1"


def test_smartleads_deprecated_field_names_read_the_same():
    old, new = (
        normalise("smartlead", smartlead_deprecated("EMAIL_OPEN")),
        normalise("smartlead", smartlead("EMAIL_OPEN")),
    )
    assert not isinstance(old, Unknown) and not isinstance(new, Unknown)
    assert (old.event_type, old.provider_message_id, old.email) == (new.event_type, new.provider_message_id, new.email)
    assert old.occurred_at == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)


def test_smartleads_nested_form_reads_the_lead_and_its_tracking_id():
    event = normalise("smartlead", smartlead_nested("EMAIL_REPLIED", email="Ada@Example.com", tracking_id="AbCd1234"))
    assert not isinstance(event, Unknown)
    assert (event.event_type, event.email, event.tracking_id) == ("reply", "ada@example.com", "AbCd1234")
    assert event.provider_message_id == "sl-2@smartlead.ai" and event.step == 2


def test_a_click_on_a_go_link_carries_its_tracking_id_and_url():
    event = normalise("smartlead", smartlead("EMAIL_LINK_CLICK"))
    assert not isinstance(event, Unknown)
    assert (event.url, event.tracking_id) == ("https://links.acme.com/go?i=Tr4ck1ng", "Tr4ck1ng")
    nested = normalise("smartlead", smartlead_nested("EMAIL_CLICKED"))
    assert not isinstance(nested, Unknown) and nested.url == "https://www.acme.com/pricing"


def test_instantly_custom_variables_arrive_as_top_level_keys():
    event = normalise("instantly", instantly("reply_received", tracking_id="Zz9Yy8Xx"))
    assert not isinstance(event, Unknown) and event.tracking_id == "Zz9Yy8Xx"


def test_a_malformed_tracking_id_is_not_taken():
    event = normalise("instantly", instantly("email_opened", tracking_id="../links/x"))
    assert not isinstance(event, Unknown) and event.tracking_id is None


@pytest.mark.parametrize(
    ("sequencer", "payload", "expected"),
    [
        ("smartlead", smartlead("email_reply"), "reply"),
        ("smartlead", smartlead("Email_Bounce"), "bounce"),
        ("instantly", instantly("REPLY_RECEIVED"), "reply"),
        ("instantly", instantly("Email_Opened"), "open"),
    ],
)
def test_event_types_are_read_in_any_letter_case_keeping_the_raw_spelling(sequencer, payload, expected):
    event = normalise(sequencer, payload)
    assert not isinstance(event, Unknown)
    assert (event.event_type, event.raw_type) == (expected, payload["event_type"])


@pytest.mark.parametrize(
    ("sequencer", "payload"),
    [("smartlead", {"event_type": "LEAD_CATEGORY_UPDATED"}), ("instantly", {"event_type": "lead_interested"})],
)
def test_unknown_event_types_are_not_normalised(sequencer, payload):
    assert normalise(sequencer, payload) == Unknown(payload["event_type"])


@pytest.mark.parametrize(
    ("sequencer", "payload", "field"),
    [
        ("smartlead", smartlead("EMAIL_OPEN", event_type=None), "event_type"),
        ("smartlead", smartlead("EMAIL_OPEN", to_email=None, sl_lead_email=None), "to_email"),
        ("smartlead", smartlead("EMAIL_OPEN", to_email="not-an-address", sl_lead_email=None), "to_email"),
        ("smartlead", smartlead("EMAIL_OPEN", event_timestamp=None), "event_timestamp"),
        ("smartlead", smartlead("EMAIL_OPEN", event_timestamp="yesterday"), "event_timestamp"),
        ("smartlead", smartlead("EMAIL_OPEN", sequence_number="first"), "sequence_number"),
        ("instantly", instantly("email_opened", lead_email=None), "lead_email"),
        ("instantly", instantly("email_opened", timestamp="1999-12-31T23:00:00Z"), "timestamp"),
        ("instantly", instantly("email_opened", timestamp=float("nan")), "timestamp"),
        (
            "instantly",
            instantly("email_opened", note="\ud800" * 3, deep=[[[[[[[[[1]]]]]]]]]),
            "deep[0][0][0][0][0][0][0]",
        ),
        ("instantly", ["not", "an", "object"], "body"),
    ],
)
def test_an_event_that_can_never_be_read_names_its_field(sequencer, payload, field):
    with pytest.raises(InvalidEvent) as caught:
        normalise(sequencer, payload)
    assert caught.value.field == field


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"text"', b"\xff\xfe"])
def test_a_body_that_is_not_events_is_refused_naming_the_body(body):
    with pytest.raises(InputError) as caught:
        parse_delivery(body)
    assert caught.value.field == "body"


def test_a_retry_of_the_same_post_has_the_same_key():
    first = normalise("smartlead", smartlead("EMAIL_OPEN"))
    again = normalise("smartlead", smartlead("EMAIL_OPEN", webhook_id=999, metadata={"attempt": 2}))
    assert not isinstance(first, Unknown) and not isinstance(again, Unknown)
    assert event_key("acme", first) == event_key("acme", again)


def test_first_email_sent_and_email_sent_are_one_event():
    first = normalise("smartlead", smartlead("FIRST_EMAIL_SENT"))
    sent = normalise("smartlead", smartlead("EMAIL_SENT"))
    assert not isinstance(first, Unknown) and not isinstance(sent, Unknown)
    assert event_key("acme", first) == event_key("acme", sent)


@pytest.mark.parametrize(
    "change",
    [
        {"event_timestamp": "2026-03-02T09:10:01Z"},
        {"to_email": "grace@example.com", "sl_lead_email": "grace@example.com"},
        {"sent_message": {"message_id": "<sl-2@acme.com>"}},
        {"event_type": "EMAIL_REPLY"},
    ],
)
def test_a_different_event_gets_a_different_key(change):
    base = normalise("smartlead", smartlead("EMAIL_OPEN"))
    other = normalise("smartlead", smartlead("EMAIL_OPEN", **change))
    assert not isinstance(base, Unknown) and not isinstance(other, Unknown)
    assert event_key("acme", base) != event_key("acme", other)


def test_keys_never_cross_tenants_or_sequencers():
    smart = normalise("smartlead", smartlead("EMAIL_OPEN"))
    assert not isinstance(smart, Unknown)
    assert event_key("acme", smart) != event_key("globex", smart)
    assert event_key("acme", smart) != event_key("acme", smart.model_copy(update={"source": "instantly"}))
