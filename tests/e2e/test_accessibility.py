"""axe-core on every console page, as an admin and as a member, at 1280 and 390 px wide.

The pages are found from the page router (oie.outcomes.pages.PAGES), so a page added there
is checked without touching this file. No serious or critical violation is allowed.
Screenshots of each page are saved under test-artifacts/console/.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from oie.console.models import HotLeadsQuery
from oie.devstack.demo_campaign import seed_demo_campaign
from oie.devstack.demo_history import seed_history
from oie.devstack.emulator import FirestoreEmulator
from oie.outcomes.auth import create_key
from oie.outcomes.pages import PAGES
from oie.webhooks.signer import LocalSigner, trust_for_tenant
from tests.e2e.accessibility import describe, violations
from tests.e2e.conftest import demo_in_process
from tests.fakes import RecordingQueue

pytestmark = [pytest.mark.browser, pytest.mark.firestore]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
WIDTHS = (1280, 390)
# Pages that are not HTML to look at, or need a POST.
NOT_PAGES = {"login", "logout", "win_rates_csv", "dismiss"}
# More than one view of the same route: the tabs and states worth checking.
VARIANTS: dict[str, dict[str, str]] = {
    "win_rates": {"source": "?by=source", "geo": "?by=geo", "intent": "?by=intent_level"},
    "search": {"results": "?q=example", "empty": "?q=nobody-has-this"},
}


def console_pages(values: Mapping[str, str | Sequence[str]]) -> dict[str, str]:
    """Every GET page of the router as name → path, its arguments filled from `values` (each choice of a list)."""
    pages: dict[str, str] = {}
    missing: dict[str, set[str]] = {}
    for rule in PAGES.iter_rules():
        endpoint = str(rule.endpoint)
        if endpoint in NOT_PAGES or "GET" not in (rule.methods or ()):
            continue
        if unknown := set(rule.arguments) - set(values):
            missing[endpoint] = unknown
            continue
        choices = [[v] if isinstance(v, str) else list(v) for v in (values[a] for a in sorted(rule.arguments))]
        for combination in itertools.product(*choices):
            args = dict(zip(sorted(rule.arguments), combination, strict=True))
            _, path = rule.build(args)  # type: ignore[misc]
            label = "-".join([endpoint, *(v for a, v in args.items() if not isinstance(values[a], str))])
            for variant, query in VARIANTS.get(endpoint, {"": ""}).items():
                pages[f"{label}-{variant}".rstrip("-")] = path + query
    assert not missing, f"give test_accessibility values for these pages' arguments: {missing}"
    return pages


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/outcomes/t/demo/admin/login")
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/**")


@pytest.fixture(scope="module")
def console(
    firestore_emulator: FirestoreEmulator,
    tmp_path_factory: pytest.TempPathFactory,
    pixel_dist: Path,
    duckdb_template: Path,
) -> Iterator[tuple[str, Any, dict[str, str | Sequence[str]]]]:
    """The demo as `make run` seeds it (a week of history), and the values for every page argument.

    Seeded once for the module: its tests only read pages (the outage test puts the warehouse back).
    """
    from oie.configuration.pages import VIEWS as SETTINGS_SECTIONS

    data = tmp_path_factory.mktemp("accessibility")
    with demo_in_process(data, duckdb_template) as (base, app, seed):
        app.tasks = RecordingQueue()  # the seed delivers the first sends itself; nothing leaves the process
        signer = LocalSigner.load_or_create(data)
        trust_for_tenant(app.tenants, "demo", signer)
        seed_demo_campaign(app, base)
        seed_history(app, base, signer)
        hot = app.console_service.hot_leads("demo", HotLeadsQuery())
        values: dict[str, str | Sequence[str]] = {
            "tenant": "demo",
            "lead": hot.leads[0].lead_id,
            "campaign": seed.campaign_id,
            "section": sorted(SETTINGS_SECTIONS),
            "review": pending_review(app, base, seed),
        }
        yield base, app, values


def pending_review(app: Any, base: str, seed: Any) -> str:
    """One AI plan waiting in the review queue (as the planner leaves it), for the plan-review pages."""
    from oie.campaigns.models import Contact, contact_campaign_id
    from oie.campaigns.plan import parse_plan
    from oie.devstack.demo_campaign import demo_plan
    from oie.planner.review import PlanReview, copy_of

    lead = seed.leads[1]
    plan = parse_plan(demo_plan(base))
    review = PlanReview(
        tenant_id="demo",
        contact_campaign_id=contact_campaign_id("demo-review", lead.lead_id),
        campaign_id="demo-review",
        contact=Contact(
            lead_id=lead.lead_id,
            email=lead.lead.email,
            tracking_id=lead.tracking_id,
            first_name=lead.lead.first_name,
            company=lead.lead.company,
        ),
        plan=plan,
        messages=copy_of(plan),
        record={
            "model": "gemini-2.5-flash",
            "prompt_version": "plan-v1",
            "prompt_tokens": 2997,
            "output_tokens": 616,
            "cost_usd": 0.0024,
            "outcome": "generated",
        },
        analysis="Read pricing twice, then the case studies, and asked for a demo through the form.",
        created_at=datetime.now(UTC),
    )
    app.plan_reviews.store.add(review)
    return review.contact_campaign_id


@pytest.mark.parametrize("role", ["admin", "member"])
def test_every_console_page_has_no_serious_or_critical_violation(console, browser: Browser, role: str) -> None:
    base, app, values = console
    key = create_key(app.api_keys, "demo", [], f"A {role}", datetime.now(UTC), role=role)  # type: ignore[arg-type]
    pages = console_pages(values)
    found: dict[str, str] = {}
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            page.goto(f"{base}/outcomes/t/demo/admin/login")
            if bad := violations(page):
                found[f"login@{width}"] = describe(bad)
            shot(page, f"{role}-{width}-login")
            login(page, base, key)
            for name, path in pages.items():
                response = page.goto(f"{base}/outcomes{path}")
                assert response is not None and response.status < 500, (name, response and response.status)
                shot(page, f"{role}-{width}-{name}")
                if bad := violations(page):
                    found[f"{name}@{width}"] = describe(bad)
        finally:
            context.close()
    assert found == {}, "\n".join(f"{k}:\n{v}" for k, v in found.items())


def test_the_unavailable_page_has_no_serious_or_critical_violation(console, browser: Browser, tmp_path: Path) -> None:
    base, app, _values = console
    key = create_key(app.api_keys, "demo", [], "A member", datetime.now(UTC), role="member")
    found: dict[str, str] = {}
    path = app.warehouse.path
    for width in WIDTHS:
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        login(page, base, key)
        app.warehouse.close()
        app.warehouse.path = tmp_path / "gone"
        (tmp_path / "gone").mkdir(exist_ok=True)  # a directory: DuckDB cannot open it
        try:
            response = page.goto(f"{base}/outcomes/t/demo/admin/win-rates")
            assert response is not None and response.status == 503
            shot(page, f"member-{width}-unavailable")
            if bad := violations(page):
                found[f"unavailable@{width}"] = describe(bad)
        finally:
            app.warehouse.close()
            app.warehouse.path = path
            context.close()
    assert found == {}, "\n".join(f"{k}:\n{v}" for k, v in found.items())


def test_the_crm_and_sequencer_settings_in_each_state_have_no_serious_or_critical_violation(live, browser) -> None:
    """The states a GET of each section does not reach: refused, connected, options refused, a secret shown once."""
    from oie.crm.clients import CrmClientFactory
    from oie.devstack.crm_servers import HubSpotServer

    base, app, _seed = live
    hubspot = HubSpotServer().start()
    app.crm_clients = CrmClientFactory(hubspot.base_url)  # before any page builds the CRM services
    key = create_key(app.api_keys, "demo", [], "An admin", datetime.now(UTC), role="admin")
    found: dict[str, str] = {}

    def check(page: Page, name: str) -> None:
        shot(page, f"admin-{page.viewport_size['width']}-{name}")  # type: ignore[index]
        if bad := violations(page):
            found[f"{name}@{page.viewport_size['width']}"] = describe(bad)  # type: ignore[index]

    try:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": 900})
            page = context.new_page()
            login(page, base, key)
            page.goto(f"{base}/outcomes/t/demo/admin/settings/crm")
            for token, state in (("wrong-token-1", "crm-refused"), (hubspot.token, "crm-connected")):
                page.fill("#hubspot-token", token)
                with page.expect_navigation():
                    page.click("#connect-hubspot button")
                check(page, state)
            page.fill("#deal_stages", "no equals sign")
            with page.expect_navigation():
                page.click("text=Save options")
            assert page.get_attribute("#deal_stages", "aria-invalid") == "true"
            check(page, "crm-options-refused")
            with page.expect_navigation():
                page.click("#crm-disconnect")
            page.goto(f"{base}/outcomes/t/demo/admin/settings/sequencers")
            with page.expect_navigation():
                page.click("#sequencer-smartlead button")
            check(page, "sequencers-secret-shown")
            context.close()
    finally:
        hubspot.stop()
    assert found == {}, "\n".join(f"{k}:\n{v}" for k, v in found.items())
