from oie.go.cache import ReadThroughCache
from oie.identity import tokens
from oie.personalize.service import PersonalizeService, initial_profile
from tests.factories import make_link, make_tenant
from tests.fakes import FakeClock, FakeLinkStore, FakeTenantStore

KEY = b"t" * 32
CLOCK = FakeClock()
PROFILE = {"firstName": "Ada", "company": "Engines", "intentScore": 72, "email": "ada@example.com", "internal": "x"}


def service(tenant=None, link=None):
    tenants = FakeTenantStore(
        tenant or make_tenant(), make_tenant(tenant_id="beta", allowed_origins=("https://beta.example",))
    )
    links = FakeLinkStore(link or make_link())
    profiles = {"acme/ld_0000000000000001": PROFILE}
    return PersonalizeService(
        tenants=ReadThroughCache(tenants.get, 10, 60),
        links=ReadThroughCache(links.get, 10, 60),
        profiles=ReadThroughCache(profiles.get, 10, 5),
        clock=CLOCK,
        token_key=KEY,
    )


def token(tenant="acme", i="ab3f9k2q", vid="v1234567890abcd"):
    return tokens.mint(KEY, tenant, i, vid, CLOCK.now())


def test_a_verified_visitor_gets_only_the_whitelisted_fields():
    profile = service().profile("acme", "v1234567890abcd", token())
    assert profile == {"firstName": "Ada", "company": "Engines", "intentScore": 72}


def test_without_a_valid_token_nobody_gets_a_name():
    svc = service()
    assert svc.profile("acme", "v1234567890abcd", None) == {}
    assert svc.profile("acme", "v1234567890abcd", token()[:-2] + "zz") == {}
    assert svc.profile("acme", "someoneelse1234", token()) == {}


def test_a_token_of_another_tenant_reveals_nothing():
    assert service().profile("beta", "v1234567890abcd", token()) == {}


def test_a_tenant_can_narrow_the_whitelist():
    tenant = make_tenant(personalization_fields=("firstName",))
    assert service(tenant=tenant).profile("acme", "v1234567890abcd", token()) == {"firstName": "Ada"}


def test_an_unknown_tenant_gets_nothing():
    assert service().profile("nobody", "v1234567890abcd", token()) == {}


def test_an_import_seeds_the_profile_with_who_the_lead_is():
    assert initial_profile("Ada", "", {"industry": "SaaS", "region": "UK"}) == {"firstName": "Ada", "industry": "SaaS"}
