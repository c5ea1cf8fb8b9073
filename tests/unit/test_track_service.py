import hashlib
import json
from datetime import timedelta

import pytest

from oie.errors import BackendUnavailable, Forbidden, InputError
from oie.go.cache import ReadThroughCache
from oie.identity import tokens
from oie.track.service import RequestFacts, TrackService
from tests.factories import make_tenant
from tests.fakes import FakeClock, FakeCompanies, FakeTenantStore, FakeWarehouse

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
