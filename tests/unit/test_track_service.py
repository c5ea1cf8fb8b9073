import hashlib
import json
from datetime import timedelta

import pytest

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.watch import WatchEntry
from oie.errors import BackendUnavailable, Forbidden, InputError
from oie.go.cache import ReadThroughCache
from oie.identity import tokens
from oie.track.intent import IntentHandoff
from oie.track.service import RequestFacts, TrackService
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeCompanies, FakeTenantStore, FakeWarehouse, RecordingQueue

KEY = b"t" * 32
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
)
ORIGIN = "https://www.acme.com"
CLOCK = FakeClock()
NOW_MS = int(CLOCK.now().timestamp() * 1000)
VID = "v1234567890abcd"


def service(warehouse=None):
    tenants = FakeTenantStore(make_tenant())
    return TrackService(
        tenants=ReadThroughCache(tenants.get, 10, 60),
        warehouse=warehouse or FakeWarehouse(),
        clock=CLOCK,
        companies=FakeCompanies({"81.2.69.160": "Globex"}),
        token_key=KEY,
        ip_hash_key=b"ip",
    )


def event(n=1, type_="pageview", ts=NOW_MS, **props):
    return {"id": f"evt{n:08d}", "type": type_, "ts": ts, "url": "https://www.acme.com/pricing?x=1", "props": props}


def batch(*events, tok=None, i="ab3f9k2q", **overrides):
    body = {
        "v": 1,
        "tenant": "acme",
        "vid": VID,
        "i": i,
        "tok": tok,
        "sid": "s1234567",
        "ctx": {"vw": 1280, "vh": 720, "lang": "en-GB", "tzo": 0, "visit": 1},
        "events": list(events) or [event()],
    }
    body.update(overrides)
    return json.dumps(body).encode()


FACTS = RequestFacts(origin=ORIGIN, user_agent=CHROME, client_ip="81.2.69.160", country="GB")


def test_valid_events_are_written_enriched_with_device_ip_company_and_geo():
    warehouse = FakeWarehouse()
    result = service(warehouse).accept(batch(event(1, title="Pricing"), event(2, "scroll", depth=50)), FACTS)
    assert result.accepted == 2 and result.rejected == []
    row = warehouse.tables["events"][0]
    assert row["event_id"] == f"{VID}.evt00000001"
    assert (row["browser"], row["os"], row["device_type"]) == ("Chrome", "Mac OS X", "desktop")
    assert (row["ip"], row["company_name"], row["country"]) == ("81.2.69.0", "Globex", "GB")
    assert (row["page_host"], row["page_path"]) == ("www.acme.com", "/pricing")
    assert json.loads(row["props"]) == {"title": "Pricing", "referrer": "", "spa": False}
    assert row["occurred_at"] == CLOCK.now() and not row["is_bot"]


def test_a_form_email_is_stored_only_as_hashes():
    warehouse = FakeWarehouse()
    service(warehouse).accept(batch(event(1, "form_submit", fields=["email"], email=" Ada@Example.com ")), FACTS)
    (row,) = warehouse.tables["events"]
    assert row["email_sha256"] == hashlib.sha256(b"ada@example.com").hexdigest()
    assert len(row["email_sha1"]) == 40 and len(row["email_md5"]) == 32
    assert "ada" not in json.dumps(row, default=str).lower().replace(row["email_sha256"], "")


def test_a_bad_event_is_rejected_by_index_and_field_and_the_good_ones_are_kept():
    warehouse = FakeWarehouse()
    result = service(warehouse).accept(batch(event(1), event(2, "scroll", depth=33), event(3, "nope")), FACTS)
    assert result.accepted == 1
    assert [(r.index, r.field) for r in result.rejected] == [(1, "events[1].props.depth"), (2, "events[2].type")]
    assert len(warehouse.tables["events"]) == 1


@pytest.mark.parametrize("offset", [timedelta(days=31), -timedelta(hours=1)])
def test_timestamps_far_in_the_past_or_future_are_rejected(offset):
    ts = int((CLOCK.now() - offset).timestamp() * 1000)
    result = service().accept(batch(event(1, ts=ts)), FACTS)
    assert result.accepted == 0 and result.rejected[0].field == "events[0].ts"


def test_a_broken_envelope_names_its_field():
    with pytest.raises(InputError) as error:
        service().accept(batch(vid="no"), FACTS)
    assert error.value.field == "batch.vid"
    with pytest.raises(InputError) as error:
        service().accept(b"{not json", FACTS)
    assert error.value.field == "body"
    with pytest.raises(InputError) as error:
        service().accept(batch(*[event(n) for n in range(51)]), FACTS)
    assert error.value.field == "batch.events"


def test_a_foreign_origin_or_unknown_tenant_stores_nothing_and_learns_nothing():
    warehouse = FakeWarehouse()
    with pytest.raises(Forbidden) as foreign:
        service(warehouse).accept(batch(), RequestFacts("https://evil.com", CHROME, None))
    with pytest.raises(Forbidden) as unknown:
        service(warehouse).accept(batch(tenant="other"), FACTS)
    assert foreign.value.message == unknown.value.message
    assert "events" not in warehouse.tables


def test_identity_claims_are_verified_flagged_forged_or_unverified():
    warehouse = FakeWarehouse()
    good = tokens.mint(KEY, "acme", "ab3f9k2q", VID, CLOCK.now())
    service(warehouse).accept(batch(event(1), tok=good), FACTS)
    service(warehouse).accept(batch(event(2), tok=good.replace(good[-3:], "xyz")), FACTS)
    service(warehouse).accept(batch(event(3)), FACTS)
    assert [r["identity_status"] for r in warehouse.tables["events"]] == ["verified", "forged", "unverified"]


def test_a_retried_batch_adds_nothing_twice():
    warehouse = FakeWarehouse()
    body = batch(event(1), event(2))
    service(warehouse).accept(body, FACTS)
    service(warehouse).accept(body, FACTS)
    assert len(warehouse.tables["events"]) == 2


def test_when_the_warehouse_is_down_the_caller_is_told_to_retry():
    with pytest.raises(BackendUnavailable):
        service(FakeWarehouse(down=True)).accept(batch(), FACTS)


def test_headless_browsers_and_crawlers_are_flagged_not_dropped():
    warehouse = FakeWarehouse()
    headless = RequestFacts(ORIGIN, CHROME.replace("Chrome/", "HeadlessChrome/"), None)
    service(warehouse).accept(batch(), headless)
    (row,) = warehouse.tables["events"]
    assert row["is_bot"] and "user_agent:headless_browser" in row["bot_reasons"]


def stored_rows_are_strict_json(rows):
    """What reaches the warehouse is valid UTF-8 and strict JSON (no NaN, no lone surrogates)."""
    for row in rows:
        json.dumps(row, default=str, allow_nan=False).encode("utf-8")
        json.loads(row["props"], parse_constant=lambda c: pytest.fail(f"{c} stored in props"))


GOOD = event(1)


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({**event(2), "ts": 1e20}, "events[1].ts"),
        ({**event(2), "ts": 2**63}, "events[1].ts"),
        ({**event(2), "ts": "NaN-literal"}, "events[1].ts"),
        ({**event(2), "ts": "Infinity-literal"}, "events[1].ts"),
        (event(2, "video", action="play", duration="Infinity-literal"), "events[1].props.duration"),
        (event(2, "custom", name="x", score="NaN-literal"), "events[1].props.score"),
        (event(2, "custom", name="x", big=10**30), "events[1].props.big"),
        (event(2, "custom", name="x", note="n" * 5000), "events[1].props.note"),
        (event(2, "custom", name="x", tags=["t"] * 1000), "events[1].props.tags"),
        (event(2, "custom", name="x", deep={"a": {"b": {"c": {"d": {"e": 1}}}}}), "events[1].props.deep.a.b.c"),
        (event(2, "custom", name="x", **{f"k{n}": n for n in range(200)}), "events[1].props"),
        (event(2, "custom", name="x", **{"k" * 500: 1}), "events[1].props"),
        ({**event(2), "url": "https://www.acme.com/\ud800"}, "events[1].url"),
        ({**event(2), "url": "http://a]b/pricing"}, "events[1].url"),  # found by Schemathesis: urlsplit refuses it
        ({**event(2), "url": "https://www.acme.com:99999/"}, "events[1].url"),
        (event(2, "click", href="http://[::1/x"), "events[1].props.href"),
        (event(2, title="half a pair \udc00"), "events[1].props.title"),
        (event(2, "custom", name="x", s="\ud83d"), "events[1].props.s"),
    ],
)
def test_one_out_of_range_value_costs_only_its_own_event(bad, field):
    warehouse = FakeWarehouse()
    body = batch(GOOD, bad).replace(b'"NaN-literal"', b"NaN").replace(b'"Infinity-literal"', b"Infinity")
    result = service(warehouse).accept(body, FACTS)
    assert result.accepted == 1 and [(r.index, r.field) for r in result.rejected] == [(1, field)]
    assert [r["event_id"] for r in warehouse.tables["events"]] == [f"{VID}.evt00000001"]
    stored_rows_are_strict_json(warehouse.tables["events"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "body"),
        (b'{"v": 1, "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", "body"),
        (b'{"v": 1, "tenant": "acme\xff\xfe"}', "body"),
        (b"\xef\xbb\xbf{}", "body"),
        (b'{"v": 1, "n": ' + b"9" * 5000 + b"}", "batch.n"),
        (b"[]", "batch"),
        (b'"a string"', "batch"),
        (b"null", "batch"),
        (b"42", "batch"),
        (b"", "body"),
        (batch(events=5), "batch.events"),
        (batch(events="abc"), "batch.events"),
        (batch(events={}), "batch.events"),
        (batch(events=[]), "batch.events"),
        (batch(ctx=[1]), "batch.ctx"),
        (batch(ctx={"dpr": "NaN-literal"}), "batch.ctx.dpr"),
        (batch(ctx={"lang": "en\ud800"}), "batch.ctx.lang"),
        (batch(tok="a.b.\u00b2.c"), "batch.tok"),
        (batch(tok="v1234567890abcd.ab3f9k2q.9.\u00e9t\u00e9"), "batch.tok"),
        (batch(v="NaN-literal"), "batch.v"),
    ],
)
def test_a_broken_envelope_is_an_input_error_naming_its_field_never_a_crash(body, field):
    body = body.replace(b'"NaN-literal"', b"NaN")
    with pytest.raises(InputError) as error:
        service().accept(body, FACTS)
    assert error.value.field == field


@pytest.mark.parametrize("bad", [5, "x", None, [event(2)], True])
def test_an_event_that_is_not_an_object_is_rejected_by_index(bad):
    result = service().accept(batch(GOOD, bad), FACTS)
    assert result.accepted == 1 and [(r.index, r.field) for r in result.rejected] == [(1, "events[1]")]


def test_an_event_id_repeated_inside_one_batch_is_stored_once():
    warehouse = FakeWarehouse()
    result = service(warehouse).accept(batch(event(1), event(2), event(1, title="again"), event(2)), FACTS)
    assert result.accepted == 4 and result.rejected == []
    assert [r["event_id"] for r in warehouse.tables["events"]] == [f"{VID}.evt00000001", f"{VID}.evt00000002"]
    assert json.loads(warehouse.tables["events"][0]["props"])["title"] == ""  # the first copy wins, as on a retry


def test_custom_events_keep_bounded_extras():
    warehouse = FakeWarehouse()
    custom = event(1, "custom", name="plan_chosen", plan="pro", seats=12, tags=["a", "b"], meta={"ok": True})
    assert service(warehouse).accept(batch(custom), FACTS).rejected == []
    props = json.loads(warehouse.tables["events"][0]["props"])
    assert props == {"name": "plan_chosen", "plan": "pro", "seats": 12, "tags": ["a", "b"], "meta": {"ok": True}}


# -- hand-off to waiting plans (oie.track.intent) ---------------------------------------


class CountingWatch:
    """The intent watch's get, counting reads; `watched` holds (tenant, tracking id) pairs."""

    def __init__(self, *watched, down=False):
        self.watched = set(watched)
        self.reads = 0
        self.down = down

    def get(self, key):
        self.reads += 1
        if self.down:
            raise BackendUnavailable("firestore: down")
        tenant_id, tracking_id = key.split("/", 1)
        if (tenant_id, tracking_id) not in self.watched:
            return None
        return WatchEntry(tenant_id=tenant_id, tracking_id=tracking_id, lead_id="ld_0000000000000001")


class DownQueue:
    def enqueue(self, task):
        raise BackendUnavailable("cloud tasks is unavailable")


def handing_service(watch, queue, warehouse=None):
    track = service(warehouse)
    track.intent = IntentHandoff(watched=ReadThroughCache(watch.get, 100, 60), tasks=lambda: queue)
    return track


def test_an_unwatched_visitor_costs_one_cached_lookup_and_enqueues_nothing():
    watch, queue = CountingWatch(), RecordingQueue()
    track = handing_service(watch, queue)
    for n in range(3):
        track.accept(batch(event(n + 1)), FACTS)
    assert queue.tasks == [] and watch.reads == 1


def test_a_batch_without_a_tracking_id_or_a_triggering_event_never_asks_the_watch():
    watch, queue = CountingWatch(("acme", "ab3f9k2q")), RecordingQueue()
    track = handing_service(watch, queue)
    track.accept(batch(event(1), i=None), FACTS)
    track.accept(batch(event(2, "scroll", depth=50), event(3, "active_time", ms=900)), FACTS)
    assert watch.reads == 0 and queue.tasks == []


def test_a_watched_visitors_pageview_form_and_return_visit_each_become_one_signal_task():
    queue = RecordingQueue()
    track = handing_service(CountingWatch(("acme", "ab3f9k2q")), queue)
    events = (
        event(1),
        event(2, "scroll", depth=50),
        event(3, "form_submit", form_id="demo"),
        event(4, "return_visit", visit=2),
    )
    track.accept(batch(*events), FACTS)
    signals = [IntentSignal.model_validate(t.payload["signal"]) for t in queue.tasks]
    assert [s.type for s in signals] == ["page_visit", "form_submit", "return_visit"]
    assert signals[0].url == "https://www.acme.com/pricing?x=1" and signals[0].tracking_id == "ab3f9k2q"
    assert signals[0].signal_key == f"event:{VID}.evt00000001" and signals[0].page_class is None
    assert {t.queue for t in queue.tasks} == {"intent-signals"}


def test_a_retried_batch_creates_no_second_task():
    queue = RecordingQueue()
    track = handing_service(CountingWatch(("acme", "ab3f9k2q")), queue)
    track.accept(batch(event(1)), FACTS)
    track.accept(batch(event(1)), FACTS)
    assert len(queue.tasks) == 1 and len(queue.names) == 1


def test_a_failed_enqueue_stores_the_events_and_asks_the_pixel_to_retry():
    warehouse = FakeWarehouse()
    track = handing_service(CountingWatch(("acme", "ab3f9k2q")), DownQueue(), warehouse)
    with pytest.raises(BackendUnavailable):
        track.accept(batch(event(1)), FACTS)
    assert [r["event_id"] for r in warehouse.tables["events"]] == [f"{VID}.evt00000001"]


def test_a_forged_identity_or_a_bot_hands_nothing_over_and_asks_nothing():
    watch, queue = CountingWatch(("acme", "ab3f9k2q")), RecordingQueue()
    track = handing_service(watch, queue)
    track.accept(batch(event(1), tok="not-a-token"), FACTS)
    bot = RequestFacts(
        origin=ORIGIN, user_agent="Googlebot/2.1 (+http://www.google.com/bot.html)", client_ip="66.249.66.1"
    )
    track.accept(batch(event(2)), bot)
    assert queue.tasks == [] and watch.reads == 0
