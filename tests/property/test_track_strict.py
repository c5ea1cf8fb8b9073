"""/track's one-call validation (`strict_batch`) accepts only what the exact path accepts, with the
same values, and takes the pixel's own batches."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oie.go.cache import ReadThroughCache
from oie.track.bounds import surely_clean
from oie.track.models import PROPS, EventIn
from oie.track.service import TrackService
from oie.track.strict import strict_batch, typed_events
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeCompanies, FakeTenantStore, FakeWarehouse
from tests.property.strategies import BOUNDED, JSON_VALUES, dumps, mutated

CLOCK = FakeClock()
NOW_MS = int(CLOCK.now().timestamp() * 1000)
URLS = st.sampled_from(["https://www.acme.com/pricing", "http://acme.com:8080/a?b=1#c", "https://x.example"])
WORDS = st.text(max_size=12)
COUNTS = st.integers(0, 10_000)
# What the pixel sends for each event type (pixel/src/core.js), optional fields sometimes left out.
VALID_PROPS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "pageview": st.fixed_dictionaries({}, optional={"title": WORDS, "referrer": URLS, "spa": st.booleans()}),
    "scroll": st.fixed_dictionaries({"depth": st.sampled_from([25, 50, 75, 90, 100])}),
    "active_time": st.fixed_dictionaries({"ms": COUNTS}),
    "click": st.fixed_dictionaries(
        {}, optional={"tag": st.just("a"), "el_id": WORDS, "text": WORDS, "href": URLS, "cta": st.booleans()}
    ),
    "form_start": st.fixed_dictionaries({}, optional={"form_id": WORDS, "form_name": WORDS}),
    "form_submit": st.fixed_dictionaries(
        {}, optional={"email": st.emails(), "fields": st.lists(WORDS, max_size=3), "form_id": WORDS}
    ),
    "video": st.fixed_dictionaries(
        {"action": st.sampled_from(["play", "pause", "progress", "complete"])},
        optional={"pct": st.sampled_from([25, 50, 75]), "src": URLS, "duration": st.floats(0, 1e4)},
    ),
    "visibility": st.fixed_dictionaries({"state": st.sampled_from(["hidden", "visible"])}),
    "return_visit": st.fixed_dictionaries({"visit": st.integers(1, 99)}, optional={"last_seen_ms": COUNTS}),
    "selection": st.fixed_dictionaries({"chars": COUNTS}),
    "copy": st.fixed_dictionaries({"chars": COUNTS}),
    "rage_click": st.fixed_dictionaries(
        {"count": st.integers(3, 9)}, optional={"x": st.integers(-5, 5000), "y": COUNTS, "tag": st.just("div")}
    ),
    "reading_speed": st.fixed_dictionaries({"wpm": st.floats(0, 900), "words": COUNTS, "seconds": st.floats(0, 3600)}),
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
            "url": URLS,
            "props": VALID_PROPS[kind],
        }
    )
)
PROP_NAMES = sorted({name for model in PROPS.values() for name in model.model_fields} | {"extra"})
EVENTS = mutated(VALID_EVENTS, ["id", "type", "ts", "url", "props", "more", *(f"props.{n}" for n in PROP_NAMES)])
CONTEXTS = st.fixed_dictionaries(
    {},
    optional={
        "vw": st.integers(0, 4000),
        "dpr": st.floats(0, 4),
        "lang": st.sampled_from(["en-GB", "de", ""]),
        "tzo": st.integers(-600, 600),
        "visit": st.integers(0, 9),
    },
)
ENVELOPES = mutated(
    st.fixed_dictionaries(
        {
            "v": st.just(1),
            "tenant": st.just("acme"),
            "vid": st.just("v1234567890abcd"),
            "sid": st.just("s1234567"),
            "events": st.lists(EVENTS, min_size=1, max_size=4),
        },
        optional={"i": st.sampled_from(["ab3f9k2q", None]), "tok": st.sampled_from(["a.b.1.c", None]), "ctx": CONTEXTS},
    ),
    ["v", "tenant", "vid", "i", "tok", "sid", "ctx", "events", "more"],
)


def exact(body: bytes) -> tuple[Any, list[tuple[EventIn, Any]], list[Any]]:
    """The exact path's envelope, valid events and rejections."""
    service = TrackService(
        tenants=ReadThroughCache(FakeTenantStore(make_tenant()).get, 10, 60),
        warehouse=FakeWarehouse(),
        clock=CLOCK,
        companies=FakeCompanies({}),
        token_key=b"t" * 32,
        ip_hash_key=b"ip",
    )
    batch = service.parse(body, clean=surely_clean(body))
    valid, rejected = service._validate(batch, CLOCK.now(), surely_clean(body))
    return batch, valid, rejected


def values(pairs: list[tuple[EventIn, Any]]) -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    return [(event.model_dump(exclude={"props"}), type(event).__name__, props.model_dump()) for event, props in pairs]


@settings(BOUNDED, max_examples=400)
@given(ENVELOPES)
def test_a_batch_the_strict_path_accepts_the_exact_path_accepts_with_the_same_values(envelope: dict[str, Any]) -> None:
    body = dumps(envelope)
    strict = strict_batch(body) if surely_clean(body) else None
    if strict is None:
        return
    batch, valid, rejected = exact(body)
    assert rejected == []
    assert strict.model_dump(exclude={"events"}) == batch.model_dump(exclude={"events"})
    typed = typed_events(strict)
    assert [(e, n.removeprefix("Strict").replace("Event", ""), p) for e, n, p in values(typed)] == [
        (e, "".join(part.title() for part in e["type"].split("_")), p) for e, _, p in values(valid)
    ]
    # The same props classes (a strict one is a subclass refusing extras): the rows are built alike.
    assert all(isinstance(s, type(x)) for (_, s), (_, x) in zip(typed, valid, strict=True))


@BOUNDED
@given(st.lists(VALID_EVENTS, min_size=1, max_size=50), CONTEXTS, st.sampled_from([None, "ab3f9k2q"]))
def test_the_pixels_own_batches_take_the_strict_path(events: list[dict[str, Any]], ctx: Any, i: str | None) -> None:
    envelope = {"v": 1, "tenant": "acme", "vid": "v1234567890abcd", "i": i, "tok": None, "sid": "s1234567"}
    body = json.dumps({**envelope, "ctx": ctx, "events": events}, separators=(",", ":")).encode()
    if not surely_clean(body):
        return  # a text escape the bounds cannot vouch for: the exact path's case
    if exact(body)[2]:
        return  # the generator's events may still break a bound (a number past 2**53): not a batch the pixel sends
    assert strict_batch(body) is not None


BATCH = b'{"v":1,"tenant":"acme","vid":"v1234567890abcd","sid":"s1234567","events":[%s]}'
SCROLL = b'{"id":"evt00000001","type":"scroll","ts":%d,"url":"https://a.example/","props":{"depth":25}}' % NOW_MS


@pytest.mark.parametrize(
    "body",
    [
        b"\xef\xbb\xbf" + BATCH % SCROLL,  # a byte-order mark: not JSON to the exact path
        BATCH % SCROLL + b"x",  # trailing bytes
        BATCH % SCROLL.replace(b'"props"', b'"more":1,"props"'),  # an undeclared event field
        BATCH % SCROLL.replace(b'{"depth":25}', b'{"depth":25,"x":[[[[[[[[1]]]]]]]]}'),  # an undeclared prop
        (BATCH % SCROLL).replace(b'"sid"', b'"zz":"' + b"z" * 300 + b'","sid"'),  # an undeclared envelope field
        BATCH % SCROLL.replace(b'"scroll"', b'"custom"').replace(b'{"depth":25}', b'{"name":"x","n":1e999}'),
        BATCH % SCROLL.replace(b"25}", b"25}}"),  # not JSON
        BATCH % SCROLL.replace(b'"props":{"depth":25}', b'"props":null'),
    ],
)
def test_what_the_strict_path_cannot_vouch_for_goes_to_the_exact_path(body: bytes) -> None:
    assert strict_batch(body) is None


def test_a_repeated_key_means_its_last_value_on_both_paths() -> None:
    body = BATCH % SCROLL.replace(b'{"depth":25}', b'{"depth":25,"depth":50}')
    strict = strict_batch(body)
    assert strict is not None and typed_events(strict)[0][1].model_dump() == {"depth": 50}
    assert exact(body)[1][0][1].model_dump() == {"depth": 50}
