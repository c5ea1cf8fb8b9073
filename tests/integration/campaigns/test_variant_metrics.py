"""Per-variant funnels and the automatic winner on DuckDB running the real SQL, with plans and winners
in the Firestore emulator: given sends, events, replies and level changes, the job's rows and decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from oie.campaigns.plan import Plan, parse_plan
from oie.jobs.campaign_experiments import campaign_experiments
from oie.jobs.context import EPOCH, Window
from oie.jobs.runner import run_job
from tests.integration.campaigns.test_campaign_flow import seeded  # noqa: F401
from tests.unit.campaigns.factories import plan_dict

pytestmark = pytest.mark.firestore
SENT = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)  # a day before the fake clock's now
COUNTS = ("sent", "delivered", "opened", "clicked", "replied", "became_hot")


def variant_plan(experiment: dict[str, Any] | None) -> Plan:
    data = plan_dict()
    intro = data["nodes"][0]
    del intro["template"]
    intro["variants"] = [
        {"id": "A", "template": {"subject": "Hi {{first_name|there}}", "text": "Hello {{first_name}}"}},
        {"id": "B", "template": {"subject": "Quick question", "text": "Hello again {{first_name}}"}},
    ]
    if experiment is not None:
        intro["experiment"] = experiment
    return parse_plan(data)


def store(app, experiment: dict[str, Any] | None, tenant: str = "acme") -> str:
    version, _ = app.campaign_service.plans.put(tenant, variant_plan(experiment))
    return version


def sent(ccid: str, variant: str, version: str, at: datetime = SENT, tenant: str = "acme", n: int = 0) -> dict:
    return {
        "transition_id": f"{ccid}:{n}:0",
        "tenant_id": tenant,
        "campaign_id": "q1",
        "contact_campaign_id": ccid,
        "lead_id": f"L-{ccid}",
        "plan_version": version,
        "from_node": "intro",
        "to_node": "intro",
        "trigger": "sent",
        "reason": "message sent",
        "status_after": "active",
        "variant_id": variant,
        "occurred_at": at,
        "recorded_at": at,
    }


def event(ccid: str, variant: str, kind: str, key: str, tenant: str = "acme", **extra: Any) -> dict:
    row = {
        "row_id": key,
        "dedup_key": key,
        "tenant_id": tenant,
        "source": "sendgrid",
        "received_at": SENT + timedelta(hours=1),
        "occurred_at": SENT + timedelta(minutes=30),
        "event_type": kind,
        "is_known_type": True,
        "contact_campaign_id": ccid,
        "campaign_id": "q1",
        "node_id": "intro",
        "variant_id": variant,
        "is_machine_open": False,
        "is_scanner_click": False,
        "is_duplicate": False,
    }
    row.update(extra)
    return row


def reply(ccid: str, key: str, auto: bool = False, at: datetime = SENT + timedelta(hours=2)) -> dict:
    return {
        "inbound_id": key,
        "tenant_id": "acme",
        "received_at": at,
        "contact_campaign_id": ccid,
        "node_id": "intro",
        "is_auto_reply": auto,
    }


def level(ccid: str, key: str, at: datetime, to_level: str = "hot", from_level: str = "warm") -> dict:
    return {
        "change_id": key,
        "tenant_id": "acme",
        "lead_id": f"L-{ccid}",
        "from_level": from_level,
        "to_level": to_level,
        "score": 70.0,
        "changed_at": at,
    }


def window(app) -> Window:
    now = app.clock.now()
    return Window(since=EPOCH, until=now, now=now)


def run(app) -> dict[str, Any]:
    return campaign_experiments(
        app.warehouse, app.campaign_service.plans, app.campaign_experiments, window(app)
    ).details


def funnels(app) -> dict[str, dict[str, int]]:
    rows = app.warehouse.sql("select * from variant_metrics where tenant_id = 'acme' order by variant_id")
    return {r["variant_id"]: {k: r[k] for k in COUNTS} for r in rows}


def decision(app) -> dict[str, Any]:
    (row,) = app.warehouse.sql("select * from experiment_decisions where tenant_id = 'acme'")
    return row


def test_the_funnel_counts_each_contact_once_per_step_and_hot_only_after_the_send(app):
    version = store(app, {"metric": "reply"})
    w = app.warehouse
    w.insert_rows(
        "campaign_transitions",
        [
            sent("c1", "A", version),
            sent("c1", "A", version, at=SENT + timedelta(days=1), n=1),  # the node sent again: still one contact
            sent("c2", "A", version),
            sent("c3", "A", version),
            sent("c4", "B", version),
            sent("c5", "B", version),
            sent("x1", "A", store(app, {"metric": "reply"}, "beta"), tenant="beta"),  # another tenant
        ],
        id_field="transition_id",
    )
    w.insert_rows(
        "message_events",
        [
            event("c1", "A", "delivered", "e1"),
            event("c1", "A", "open", "e2"),
            event("c1", "A", "open", "e3"),  # a second open of the same contact
            event("c1", "A", "click", "e4"),
            event("c2", "A", "delivered", "e5"),
            event("c2", "A", "open", "e6", is_machine_open=True),  # Apple MPP: nobody read it
            event("c3", "A", "click", "e7", is_scanner_click=True),  # a link scanner
            event("c4", "B", "delivered", "e8"),
            event("c4", "B", "open", "e9"),
            event("c5", "B", "delivered", "e10"),
            event("x1", "A", "delivered", "e11", tenant="beta"),
        ],
        id_field="row_id",
    )
    w.insert_rows(
        "inbound_messages",
        [
            reply("c2", "i1"),
            reply("c3", "i2", auto=True),
            reply("c4", "i3"),
            reply("c5", "i4", at=SENT - timedelta(hours=1)),
        ],
        id_field="inbound_id",
    )
    w.insert_rows(
        "lead_level_changes",
        [
            level("c1", "h1", SENT + timedelta(hours=3)),
            level("c1", "h2", SENT + timedelta(hours=4), to_level="burning", from_level="hot"),  # not a new crossing
            level("c3", "h3", SENT - timedelta(days=1)),  # hot before the send: not this variant's doing
            level("c4", "h4", SENT + timedelta(hours=5), to_level="burning", from_level="cold"),
        ],
        id_field="change_id",
    )

    details = run(app)

    assert details["variant_rows"] == 3 and details["nodes"] == 2  # acme's A and B, beta's A
    assert funnels(app) == {
        "A": {"sent": 3, "delivered": 2, "opened": 1, "clicked": 1, "replied": 1, "became_hot": 1},
        "B": {"sent": 2, "delivered": 2, "opened": 1, "clicked": 0, "replied": 1, "became_hot": 1},
    }
    (beta,) = w.sql("select sent, delivered from variant_metrics where tenant_id = 'beta'")
    assert beta == {"sent": 1, "delivered": 1}
    row = decision(app)
    assert (row["metric"], row["status"], row["winner_variant_id"]) == ("reply", "collecting", None)
    assert row["reason"] == "below 100 contacts: A, B"


def test_running_the_same_window_twice_leaves_the_same_rows(app):
    version = store(app, {"metric": "click"})
    app.warehouse.insert_rows(
        "campaign_transitions", [sent("c1", "A", version), sent("c2", "B", version)], id_field="transition_id"
    )
    app.warehouse.insert_rows("message_events", [event("c2", "B", "click", "e1")], id_field="row_id")
    run(app)
    first = app.warehouse.sql("select * from variant_metrics order by variant_id")
    run(app)
    assert app.warehouse.sql("select * from variant_metrics order by variant_id") == first
    assert [r["clicked"] for r in first] == [0, 1]


def contacts(prefix: str, variant: str, version: str, count: int, replies: int, at: datetime) -> tuple[list, list]:
    sends = [sent(f"{prefix}{i}", variant, version, at=at) for i in range(count)]
    answers = [reply(f"{prefix}{i}", f"r-{prefix}{i}", at=at + timedelta(minutes=5)) for i in range(replies)]
    return sends, answers


def add(app, *groups: tuple[list, list]) -> None:
    for sends, answers in groups:
        app.warehouse.insert_rows("campaign_transitions", sends, id_field="transition_id")
        app.warehouse.insert_rows("inbound_messages", answers, id_field="inbound_id")


AUTO = {"metric": "reply", "autoWinner": True, "confidence": 0.95, "minPerVariant": 20}


def test_the_job_sets_the_winner_once_significant_and_never_flips_it(app):
    version = store(app, AUTO)
    early = app.clock.now() - timedelta(minutes=30)
    add(app, contacts("a", "A", version, 10, 1, early), contacts("b", "B", version, 10, 6, early))
    report = run_job("campaign_experiments", app)
    assert report["winners_set"] == 0
    assert app.campaign_experiments.winner("acme", "q1", "intro") is None
    assert decision(app)["status"] == "collecting"  # B leads, but neither variant has 20 contacts

    app.clock.advance(minutes=15)
    later = app.clock.now() - timedelta(minutes=10)
    add(app, contacts("a2-", "A", version, 30, 2, later), contacts("b2-", "B", version, 30, 12, later))
    report = run_job("campaign_experiments", app)
    assert report["winners_set"] == 1
    assert app.campaign_experiments.winner("acme", "q1", "intro") == "B"
    row = decision(app)
    assert (row["status"], row["winner_variant_id"], row["leader_variant_id"]) == ("winner_set", "B", "B")
    assert row["is_significant"] and row["p_value"] < 0.05 and row["decided_at"] == app.clock.now()
    decided_at = row["decided_at"]

    # A then does far better: the recorded winner stands.
    app.clock.advance(minutes=15)
    late = app.clock.now() - timedelta(minutes=10)
    add(app, contacts("a3-", "A", version, 200, 150, late))
    report = run_job("campaign_experiments", app)
    assert report["winners_set"] == 0
    assert app.campaign_experiments.winner("acme", "q1", "intro") == "B"
    row = decision(app)
    assert (row["status"], row["winner_variant_id"], row["leader_variant_id"]) == ("winner_kept", "B", "A")
    assert row["decided_at"] == decided_at


def test_without_auto_winner_a_significant_leader_is_reported_but_not_set(app):
    version = store(app, {**AUTO, "autoWinner": False})
    add(app, contacts("a", "A", version, 40, 3, SENT), contacts("b", "B", version, 40, 18, SENT))
    assert run(app)["winners_set"] == 0
    assert app.campaign_experiments.winner("acme", "q1", "intro") is None
    row = decision(app)
    assert (row["status"], row["leader_variant_id"], row["winner_variant_id"]) == ("significant", "B", None)
    assert row["is_significant"] and not row["auto_winner"]


def test_a_node_with_variants_but_no_experiment_is_measured_and_never_decided(app):
    version = store(app, None)
    add(app, contacts("a", "A", version, 40, 3, SENT), contacts("b", "B", version, 40, 18, SENT))
    run(app)
    assert app.campaign_experiments.winner("acme", "q1", "intro") is None
    assert decision(app)["status"] == "no_experiment"
    assert funnels(app)["B"]["replied"] == 18


@pytest.fixture
def campaigns_page(seeded):  # noqa: F811
    """The Campaigns page (HTML) of a tenant whose q1 intro step has a winner, B, and another tenant's test."""
    from tests.integration.campaigns.test_campaign_flow import start
    from tests.integration.console.test_campaign_pages import URL, login, text

    app = seeded
    start(app)
    version = store(app, AUTO)
    add(app, contacts("a", "A", version, 40, 3, SENT), contacts("b", "B", version, 40, 18, SENT))
    app.warehouse.insert_rows(
        "campaign_transitions", [sent("x1", "Z", store(app, AUTO, "beta"), tenant="beta")], id_field="transition_id"
    )
    run(app)
    client, _csrf = login(app, "member")
    return text(client.get(f"{URL}/campaigns"))


def test_the_campaigns_page_shows_each_variant_s_funnel_its_significance_and_the_winner(campaigns_page):
    html = " ".join(campaigns_page.split())
    assert "Variant tests" in html and "q1, step intro" in html
    assert 'Variant B <span class="badge won">winner</span>' in html
    assert "Variant <strong>B</strong> now goes to every contact" in html
    assert '<td class="num" data-label="Replies">18</td>' in html
    assert '<td class="num" data-label="Reply rate">45.0%</td>' in html
    assert "vs B: -83% lift, p &lt; 0.001 (over 99.9% confidence), <strong>significant</strong>" in html
    assert "Variant Z" not in html  # another tenant's test


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
def test_the_variant_tables_pass_axe_and_fit_a_phone(campaigns_page, browser, width):
    from tests.e2e.accessibility import describe, violations

    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.set_content(campaigns_page)
        assert page.locator("table.variants").count() == 1
        found = violations(page)
        assert not found, describe(found)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        row = page.locator("table.variants tbody tr").first.bounding_box()
        assert row is not None and row["width"] <= width
    finally:
        page.close()


def test_a_sendgrid_event_s_variant_custom_arg_reaches_the_variant_s_funnel(app):
    from werkzeug.test import Client

    from oie.devstack.gateway import build_gateway
    from oie.webhooks.signer import LocalSigner
    from tests.fakes import RecordingQueue
    from tests.integration.webhooks.helpers import event as sendgrid_event
    from tests.integration.webhooks.helpers import post_events, seed_tenant

    signer = LocalSigner.generate()
    app.tasks = RecordingQueue()
    seed_tenant(app, signer)
    version = store(app, AUTO)
    row = sent("cc1", "B", version, at=app.clock.now() - timedelta(hours=1))
    app.warehouse.insert_rows("campaign_transitions", [{**row, "to_node": "step1"}], id_field="transition_id")
    events = [
        sendgrid_event("delivered", 1, variant_id="B"),
        sendgrid_event("open", 1, variant_id="B"),
        sendgrid_event("delivered", 2, variant_id="../B"),  # not an id the engine writes
    ]
    response = post_events(Client(build_gateway()), signer, events, at=int(app.clock.now().timestamp()))
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    stored = app.warehouse.sql("select contact_campaign_id, variant_id from message_events order by row_id")
    assert [(r["contact_campaign_id"], r["variant_id"]) for r in stored] == [("cc1", "B"), ("cc1", "B"), ("cc2", None)]
    run(app)
    (funnel,) = app.warehouse.sql("select node_id, variant_id, sent, delivered, opened from variant_metrics")
    assert funnel == {"node_id": "step1", "variant_id": "B", "sent": 1, "delivered": 1, "opened": 1}
