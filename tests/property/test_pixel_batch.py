"""For any input, the pixel's batch and event models accept it or raise their declared error."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from oie.errors import InputError
from oie.go.cache import ReadThroughCache
from oie.track.models import PROPS, BatchIn, EventIn, InvalidEvent, parse_event
from oie.track.service import RequestFacts, TrackService
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeCompanies, FakeTenantStore, FakeWarehouse
from tests.property.strategies import BODIES, BOUNDED, JSON_VALUES, TEXT, assert_storable, dumps, mutated

CLOCK = FakeClock()
NOW_MS = int(CLOCK.now().timestamp() * 1000)
FACTS = RequestFacts(origin="https://www.acme.com", user_agent="Mozilla/5.0 Chrome/131.0", client_ip="81.2.69.160")
PROP_NAMES = sorted({name for model in PROPS.values() for name in model.model_fields} | {"extra"})

VALID_PROPS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "pageview": st.fixed_dictionaries({}, optional={"title": st.text(max_size=20), "spa": st.booleans()}),
    "scroll": st.fixed_dictionaries({"depth": st.sampled_from([25, 50, 75, 90, 100])}),
    "click": st.fixed_dictionaries({}, optional={"text": st.text(max_size=20), "cta": st.booleans()}),
    "video": st.fixed_dictionaries(
        {"action": st.sampled_from(["play", "pause", "complete"])}, optional={"duration": st.floats(0, 1e4)}
    ),
    "form_submit": st.fixed_dictionaries({}, optional={"email": st.emails(), "fields": st.lists(st.text(max_size=9))}),
    "custom": st.fixed_dictionaries(
        {"name": st.text(min_size=1, max_size=20)}, optional={"plan": JSON_VALUES, "seats": st.integers(0, 99)}
    ),
}
VALID_EVENTS = st.sampled_from(sorted(VALID_PROPS)).flatmap(
    lambda kind: st.fixed_dictionaries(
        {
            "id": st.from_regex(r"[0-9A-Za-z_-]{8,12}", fullmatch=True),
            "type": st.just(kind),
            "ts": st.integers(NOW_MS - 86_400_000, NOW_MS),
            "url": st.just("https://www.acme.com/pricing"),
            "props": VALID_PROPS[kind],
        }
    )
)
EVENTS = mutated(VALID_EVENTS, ["id", "type", "ts", "url", "props", *(f"props.{n}" for n in PROP_NAMES)])


def service(warehouse: FakeWarehouse) -> TrackService:
    tenants = FakeTenantStore(make_tenant())
    return TrackService(
        tenants=ReadThroughCache(tenants.get, 10, 60),
        warehouse=warehouse,
        clock=CLOCK,
        companies=FakeCompanies({}),
        token_key=b"t" * 32,
        ip_hash_key=b"ip",
    )


def envelope(events: Any, **fields: Any) -> dict[str, Any]:
    return {"v": 1, "tenant": "acme", "vid": "v1234567890abcd", "sid": "s1234567", "events": events, **fields}


@BOUNDED
@given(BODIES)
def test_any_bytes_are_a_batch_or_an_input_error(body: bytes) -> None:
    try:
        batch = service(FakeWarehouse()).parse(body)
    except InputError as exc:
        assert exc.field is not None and exc.field.startswith(("body", "batch"))
    else:
        assert isinstance(batch, BatchIn)


@BOUNDED
@given(JSON_VALUES)
def test_any_json_value_is_a_batch_or_a_validation_error(value: Any) -> None:
    for model in (BatchIn, EventIn):
        with contextlib.suppress(ValidationError):  # the declared error; anything else fails the test
            model.model_validate(value)


@BOUNDED
@given(st.one_of(EVENTS, JSON_VALUES))
def test_any_event_is_parsed_or_an_invalid_event(raw: Any) -> None:
    try:
        event, props = parse_event(raw)
    except InvalidEvent as exc:
        assert isinstance(exc.field, str) and exc.message
    else:
        assert isinstance(props, PROPS[event.type])
        json.dumps(props.model_dump(), allow_nan=False).encode("utf-8")


@BOUNDED
@given(st.lists(st.one_of(EVENTS, JSON_VALUES), min_size=1, max_size=4), st.dictionaries(TEXT, JSON_VALUES, max_size=2))
def test_every_event_of_a_good_envelope_is_stored_or_rejected_by_its_index(events: list[Any], extra: Any) -> None:
    warehouse = FakeWarehouse()
    body = dumps(envelope(events, ctx=extra))
    try:
        result = service(warehouse).accept(body, FACTS)
    except InputError as exc:  # the envelope itself (ctx here) was refused, naming the field
        assert exc.field is not None and exc.field.startswith("batch.ctx")
        return
    assert result.accepted + len(result.rejected) == len(events)
    assert all(r.field.startswith(f"events[{r.index}]") for r in result.rejected)
    rows = warehouse.tables.get("events", [])
    assert len(rows) == len({r["event_id"] for r in rows}) <= result.accepted
    assert_storable(rows, json_columns=("props",))


@BOUNDED
@given(st.one_of(BODIES, JSON_VALUES.map(lambda v: dumps(envelope(v))), JSON_VALUES.map(dumps)))
def test_any_body_is_accepted_or_refused_with_an_input_error_never_a_crash(body: bytes) -> None:
    warehouse = FakeWarehouse()
    try:
        result = service(warehouse).accept(body, FACTS)
    except InputError:
        assert "events" not in warehouse.tables
        return
    assert_storable(warehouse.tables.get("events", []), json_columns=("props",))
    assert result.accepted >= len(warehouse.tables.get("events", []))


@pytest.mark.parametrize("depth", [900, 1000, 5000, 30_000])
def test_nesting_below_at_and_past_the_recursion_limit_is_refused_not_a_crash(depth: int) -> None:
    warehouse = FakeWarehouse()
    body = dumps(envelope([])).replace(b"[]", b"[" * depth + b"]" * depth)
    try:
        result = service(warehouse).accept(body, FACTS)
    except InputError as exc:
        assert exc.field == "body"
    else:
        assert result.accepted == 0 and result.rejected[0].field.startswith("events[0]")
    assert "events" not in warehouse.tables
