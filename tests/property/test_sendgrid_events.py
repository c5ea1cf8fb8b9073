"""For any input, SendGrid's event model and delivery parser accept it or raise their declared error,
and the Event Webhook service answers any signed body with a receipt (never an error to retry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from oie.errors import InputError
from oie.json_input import is_clean_text
from oie.suppressions.store import MemorySuppressions
from oie.webhooks.dedup import event_key
from oie.webhooks.events import EventWebhooks, Receipt
from oie.webhooks.models import InvalidEvent, SendGridEvent, parse_delivery, parse_event
from oie.webhooks.signer import LocalSigner
from oie.webhooks.store import MemoryEventMarkers, MemoryOutboundMessages
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeTenantStore, FakeWarehouse, RecordingQueue
from tests.property.strategies import BODIES, BOUNDED, JSON_VALUES, assert_storable, dumps, mutated

SIGNER = LocalSigner.generate()
CLOCK = FakeClock()
NOW = int(CLOCK.now().timestamp())
KINDS = ["processed", "delivered", "open", "click", "bounce", "dropped", "spamreport", "unsubscribe", "new_kind"]
FIELDS = ["event", "email", "timestamp", "sg_message_id", "sg_event_id", "url", "reason", "type", "useragent", "ip"]
FIELDS += ["sg_machine_open", "tenant_id", "contact_campaign_id", "oie_message_id", "category"]
VALID_EVENTS = st.fixed_dictionaries(
    {
        "event": st.sampled_from(KINDS),
        "email": st.emails(),
        "timestamp": st.integers(NOW - 86_400, NOW),
    },
    optional={
        "sg_message_id": st.from_regex(r"msg[0-9]{1,3}\.filter0001\.1\.0", fullmatch=True),
        "sg_event_id": st.text(max_size=20),
        "url": st.just("https://www.acme.com/pricing"),
        "reason": st.text(max_size=40),
        "type": st.sampled_from(["bounce", "blocked"]),
        "useragent": st.text(max_size=40),
        "ip": st.ip_addresses().map(str),
        "sg_machine_open": st.booleans(),
        "tenant_id": st.just("acme"),
        "contact_campaign_id": st.just("cc1"),
        "oie_message_id": st.sampled_from(["m1", "m2"]),
        "category": st.lists(st.text(max_size=10), max_size=3),
    },
)
EVENTS = mutated(VALID_EVENTS, FIELDS)


def webhooks(warehouse: FakeWarehouse, queue: RecordingQueue) -> EventWebhooks:
    return EventWebhooks(
        tenants=FakeTenantStore(make_tenant(sendgrid_webhook_public_key=SIGNER.public_key_b64)),
        markers=MemoryEventMarkers(),
        outbound=MemoryOutboundMessages(),
        warehouse=warehouse,
        tasks=queue,
        suppressions=MemorySuppressions(),
        clock=CLOCK,
        max_age_seconds=600,
        ip_hash_key=b"ip",
    )


@BOUNDED
@given(st.one_of(EVENTS, JSON_VALUES))
def test_any_value_is_a_sendgrid_event_or_a_validation_error(value: Any) -> None:
    try:
        event = SendGridEvent.model_validate(value)
    except ValidationError:
        return
    # What passes can be keyed, timed and stored.
    assert len(event_key("acme", event)) == 40
    datetime.fromtimestamp(event.timestamp, tz=UTC)
    assert is_clean_text(event.email) and is_clean_text(event.event)


@BOUNDED
@given(st.one_of(EVENTS, JSON_VALUES))
def test_any_element_is_parsed_or_an_invalid_event(value: Any) -> None:
    try:
        event = parse_event(value)
    except InvalidEvent as exc:
        assert exc.field and exc.message
    else:
        assert isinstance(event, SendGridEvent)


@BOUNDED
@given(st.one_of(BODIES, st.lists(st.one_of(EVENTS, JSON_VALUES), max_size=4).map(dumps)))
def test_any_body_is_a_list_of_elements_or_an_input_error(body: bytes) -> None:
    try:
        assert isinstance(parse_delivery(body), list)
    except InputError as exc:
        assert exc.field == "body"


@BOUNDED
@given(st.one_of(BODIES, st.lists(st.one_of(EVENTS, JSON_VALUES), max_size=4).map(dumps)))
def test_any_signed_delivery_gets_a_receipt_and_only_storable_rows(body: bytes) -> None:
    warehouse, queue = FakeWarehouse(), RecordingQueue()
    receipt = webhooks(warehouse, queue).receive("acme", body, SIGNER.sign(body, str(NOW)), str(NOW))
    assert isinstance(receipt, Receipt)
    (delivery,) = warehouse.tables["webhook_deliveries"]
    assert_storable([delivery], json_columns=("details",))
    events = warehouse.tables.get("message_events", [])
    assert_storable(events)
    # Every element is stored (new or duplicate), rejected, or ignored as another tenant's.
    handled = receipt.accepted + receipt.duplicates + len(receipt.rejected)
    assert 0 <= receipt.events - handled <= len(receipt.ignored)
    assert len(queue.tasks) == receipt.enqueued
