from urllib.parse import parse_qs, urlsplit

from oie.errors import BackendUnavailable
from oie.go.cache import ReadThroughCache
from oie.go.service import ClickRequest, GoService
from oie.identity import tokens
from tests.factories import make_link, make_tenant
from tests.fakes import FakeClock, FakeLinkStore, FakeSpool, FakeTenantStore, FakeWarehouse

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
DEFAULT = "https://engine.example/welcome"
TOKEN_KEY = b"t" * 32


def make_service(warehouse=None, spool=None, links=None, tenants=None):
    links = links or FakeLinkStore(make_link())
    tenants = tenants or FakeTenantStore(make_tenant())
    service = GoService(
        links=ReadThroughCache(links.get, 100, 60),
        tenants=ReadThroughCache(tenants.get, 100, 60),
        tenant_store=tenants,
        warehouse=warehouse or FakeWarehouse(),
        spool=spool or FakeSpool(),
        clock=FakeClock(),
        default_landing_url=DEFAULT,
        ip_hash_key=b"k",
        token_key=TOKEN_KEY,
    )
    return service, links


def click(i="ab3f9k2q", to=None, method="GET", host="engine.example", agent=CHROME, ip="81.2.69.160"):
    return ClickRequest(tracking_id=i, to=to, method=method, host=host, user_agent=agent, referrer="", client_ip=ip)


def without_token(location):
    """The location with its identity token removed, and the token."""
    parts = urlsplit(location)
    query = parse_qs(parts.query)
    token = query.pop("oie_t")[0]
    rest = "&".join(f"{k}={v[0]}" for k, v in query.items())
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{rest}", token


def test_a_known_link_redirects_to_its_landing_page_with_i_and_a_signed_token():
    warehouse = FakeWarehouse()
    service, _ = make_service(warehouse=warehouse)
    location, token = without_token(service.click(click()))
    assert location == "https://www.acme.com/demo?i=ab3f9k2q"
    identity = tokens.check(TOKEN_KEY, "acme", token, "ab3f9k2q", None, FakeClock().now())
    assert identity.status == "verified"
    assert identity.visitor_id == warehouse.tables["email_clicks"][0]["visitor_id"]


def test_each_click_gets_its_own_visitor_id():
    service, _ = make_service()
    first = without_token(service.click(click()))[1].split(".")[0]
    second = without_token(service.click(click()))[1].split(".")[0]
    assert first != second


def test_the_click_is_recorded_with_lead_campaign_and_truncated_ip():
    warehouse = FakeWarehouse()
    service, _ = make_service(warehouse=warehouse)
    service.click(click())
    (row,) = warehouse.tables["email_clicks"]
    assert (row["tenant_id"], row["lead_id"], row["campaign_id"]) == (
        "acme",
        "ld_0000000000000001",
        "q1-enterprise",
    )
    assert row["is_known_link"] and not row["is_bot"] and row["bot_reasons"] == []
    assert row["ip"] == "81.2.69.0"
    assert row["clicked_at"] == FakeClock().now()


def test_an_allowed_to_is_followed_and_a_foreign_one_is_not():
    service, _ = make_service()
    assert (
        without_token(service.click(click(to="https://acme.com/pricing")))[0] == "https://acme.com/pricing?i=ab3f9k2q"
    )
    assert without_token(service.click(click(to="https://evil.com/")))[0] == "https://www.acme.com/demo?i=ab3f9k2q"


def test_an_unknown_id_on_a_tenant_host_lands_on_that_tenants_default_page_and_is_recorded():
    warehouse = FakeWarehouse()
    service, _ = make_service(warehouse=warehouse)
    assert service.click(click(i="zzzzzzzz", host="links.acme.com")) == "https://www.acme.com/"
    (row,) = warehouse.tables["email_clicks"]
    assert row["tenant_id"] == "acme" and not row["is_known_link"] and row["tracking_id"] == "zzzzzzzz"


def test_a_malformed_id_anywhere_still_redirects_to_the_deployment_default():
    warehouse = FakeWarehouse()
    service, links = make_service(warehouse=warehouse)
    assert service.click(click(i="<script>")) == DEFAULT
    assert service.click(click(i=None)) == DEFAULT
    assert links.reads == 0  # malformed ids never reach the store
    assert len(warehouse.tables["email_clicks"]) == 2


def test_head_requests_and_scanners_are_recorded_as_bots():
    warehouse = FakeWarehouse()
    service, _ = make_service(warehouse=warehouse)
    service.click(click(method="HEAD"))
    service.click(click(agent="Mimecast URL Protect"))
    assert [r["is_bot"] for r in warehouse.tables["email_clicks"]] == [True, True]


def test_a_warm_cache_reads_each_link_once():
    service, links = make_service()
    for _ in range(5):
        service.click(click())
    assert links.reads == 1


def test_when_the_warehouse_is_down_the_click_is_spooled_and_the_recipient_still_lands():
    spool = FakeSpool()
    service, _ = make_service(warehouse=FakeWarehouse(down=True), spool=spool)
    assert without_token(service.click(click()))[0] == "https://www.acme.com/demo?i=ab3f9k2q"
    (row,) = spool.items.values()
    assert row["lead_id"] == "ld_0000000000000001"


def test_when_every_store_is_down_the_recipient_still_lands(caplog):
    service, _ = make_service(warehouse=FakeWarehouse(down=True), spool=FakeSpool(down=True))
    assert without_token(service.click(click()))[0] == "https://www.acme.com/demo?i=ab3f9k2q"


class DownLinkStore:
    """A link store whose every read fails as Firestore does past its deadline."""

    def __init__(self) -> None:
        self.reads = 0

    def get(self, tracking_id):
        self.reads += 1
        raise BackendUnavailable("the database did not answer in time")

    find_by_go_host = get


class CountingSpool(FakeSpool):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def add(self, row, *, row_id):
        self.calls += 1
        super().add(row, row_id=row_id)


def test_when_links_cannot_be_read_the_recipient_lands_on_the_default_page_and_the_click_is_kept():
    warehouse, down = FakeWarehouse(), DownLinkStore()
    service, _ = make_service(warehouse=warehouse, links=down)
    assert service.click(click(host="links.acme.com")) == DEFAULT
    (row,) = warehouse.tables["email_clicks"]
    assert (row["tracking_id"], row["tenant_id"], row["lead_id"], row["is_known_link"]) == (
        "ab3f9k2q",
        None,
        None,
        False,
    )
    # Whose tenant it is is unknown, so is its ip_mode: keep no address rather than too much.
    assert row["ip"] is None
    assert down.reads == 1, "the go host was looked up too, in a store already known to be down"


def test_when_links_and_the_warehouse_are_both_down_firestore_is_not_waited_for_twice():
    spool = CountingSpool()
    service, _ = make_service(warehouse=FakeWarehouse(down=True), spool=spool, links=DownLinkStore())
    assert service.click(click()) == DEFAULT
    assert spool.calls == 0  # the click is logged in full instead
