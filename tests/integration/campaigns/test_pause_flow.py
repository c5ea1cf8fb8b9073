"""Pause, resume and stop on the Firestore emulator and DuckDB: through campaign_step, the API and the CLI."""

import json
import threading

import pytest
from click.testing import CliRunner
from werkzeug.test import Client

from oie.campaigns.cli import campaigns
from oie.campaigns.control import ControlRequest
from oie.campaigns.planner import TemplatePlanner
from oie.devstack.gateway import build_gateway
from oie.errors import Conflict
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import create_key
from tests.factories import csv_text
from tests.integration.campaigns.test_campaign_flow import SENDER, deliver, outbox, seeded, start  # noqa: F401
from tests.unit.campaigns.factories import make_plan

pytestmark = pytest.mark.firestore


@pytest.fixture
def gateway():
    return Client(build_gateway())


def act(app, action, scope, **fields):
    return app.campaign_control.apply("acme", ControlRequest(action=action, scope=scope, **fields), "test:sam")


def lead_of(app, email):
    return next(
        s.contact.lead_id for s in app.campaign_service.states.in_campaign("acme", "q1", 10) if s.contact.email == email
    )


def test_a_paused_campaign_holds_its_steps_and_resume_sends_each_once(seeded, gateway):  # noqa: F811
    app = seeded
    start(app)
    first = list(app.tasks.tasks)
    assert act(app, "pause", "campaign", campaign_id="q1").changed
    assert [deliver(app, gateway, t) for t in first] == ["held", "held"]
    assert [deliver(app, gateway, t) for t in first] == ["held", "held"]  # delivered twice while paused
    assert outbox(app) == []
    acme = app.firestore.collection("tenants").document("acme")
    statuses = {d.id: d.to_dict()["status"] for d in acme.collection("scheduled_actions").stream()}
    assert sorted(statuses.values()) == ["held", "held"]
    control = acme.collection("campaign_controls").document("q1").get().to_dict()
    assert control["state"] == "paused" and control["changed_by"] == "test:sam"

    app.clock.advance(minutes=30)
    resumed = act(app, "resume", "campaign", campaign_id="q1")
    assert resumed.contacts == 2
    again = list(app.tasks.tasks)[2:]
    assert [t.schedule_at for t in again] == [app.clock.now()] * 2
    assert [deliver(app, gateway, t) for t in first] == ["superseded", "superseded"]
    assert [deliver(app, gateway, t) for t in again] == ["sent", "sent"]
    assert [deliver(app, gateway, t) for t in again] == ["superseded", "superseded"]
    assert len(outbox(app)) == 2
    rows = app.warehouse.sql(
        "select trigger, count(*) as n from campaign_transitions group by trigger order by trigger"
    )
    assert rows == [
        {"trigger": "held", "n": 2},
        {"trigger": "pause", "n": 1},
        {"trigger": "resume", "n": 3},  # the campaign's row and one per re-armed contact
        {"trigger": "sent", "n": 2},
        {"trigger": "start", "n": 2},
    ]


def test_a_stopped_tenant_never_sends_again_and_cannot_be_resumed(seeded, gateway):  # noqa: F811
    app = seeded
    start(app)
    act(app, "pause", "tenant")
    held = deliver(app, gateway, app.tasks.tasks[0])
    assert held == "held"
    assert act(app, "stop", "tenant", reason="legal hold").contacts == 1  # the held one ends at once
    assert deliver(app, gateway, app.tasks.tasks[1]) == "stopped"
    states = app.campaign_service.states.in_campaign("acme", "q1", 10)
    assert {s.status for s in states} == {"stopped"} and outbox(app) == []
    with pytest.raises(Conflict):
        act(app, "resume", "tenant")


def test_a_contact_pause_holds_only_that_contact(seeded, gateway):  # noqa: F811
    app = seeded
    start(app)
    ada = lead_of(app, "ada@example.com")
    assert act(app, "pause", "contact", lead_id=ada).contacts == 1
    outcomes = {t.payload["contact_campaign_id"]: deliver(app, gateway, t) for t in list(app.tasks.tasks)}
    assert outcomes[f"q1_{ada}_email"] == "held" and sorted(outcomes.values()) == ["held", "sent"]
    act(app, "resume", "contact", lead_id=ada, campaign_id="q1")
    assert deliver(app, gateway, app.tasks.tasks[-1]) == "sent" and len(outbox(app)) == 2


class OpenedAfter:
    """The service's send steps, running `land` just before a send transaction begins or while it is open."""

    def __init__(self, inner, before=None, inside=None):
        self.inner, self.before, self.inside = inner, before, inside

    def open(self, *args):
        if self.before:
            self.before()
        step = self.inner.open(*args)
        if self.inside:
            known_full = step.known_full

            def hooked(rules, now):
                self.inside()
                return known_full(rules, now)

            step.known_full = hooked
        return step


def messages_of(app):
    return list(app.firestore.collection("tenants").document("acme").collection("outbound_messages").stream())


def test_a_stop_committed_after_the_steps_read_but_before_its_send_transaction_stops_the_send(seeded, gateway):  # noqa: F811
    app = seeded
    start(app)
    service = app.campaign_service
    service.steps = OpenedAfter(service.steps, before=lambda: act(app, "stop", "campaign", campaign_id="q1"))
    assert deliver(app, gateway, app.tasks.tasks[0]) == "stopped"
    assert outbox(app) == [] and messages_of(app) == []  # not even claimed


def test_a_stop_landing_while_the_send_transaction_is_open_comes_after_the_claim_or_stops_it(seeded):  # noqa: F811
    app = seeded
    start(app)
    service = app.campaign_service
    workers = []

    def stop_meanwhile():
        workers.append(threading.Thread(target=lambda: act(app, "stop", "campaign", campaign_id="q1")))
        workers[-1].start()
        workers[-1].join(0.5)  # the stop waits on the transaction's hold of the control it read (or aborts it)

    service.steps = OpenedAfter(service.steps, inside=stop_meanwhile)
    from oie.campaigns.service import StepPayload
    from oie.errors import BackendUnavailable

    step = StepPayload.model_validate(app.tasks.tasks[0].payload)
    outcomes = []
    for _ in range(5):
        try:
            outcomes.append(service.run_step(step))
            break
        except BackendUnavailable:  # the transaction lost to the stop: Cloud Tasks delivers it again
            service.steps.inside = None
    workers[0].join(30)
    control = app.firestore.collection("tenants").document("acme").collection("campaign_controls").document("q1").get()
    assert control.to_dict()["state"] == "stopped"
    claims = messages_of(app)
    if outcomes == ["sent"]:
        # Serialised: the claim committed first, and the stop after it.
        assert len(outbox(app)) == 1 and len(claims) == 1 and claims[0].create_time < control.update_time
    else:
        assert outcomes == ["stopped"] and outbox(app) == [] and claims == []


def test_a_step_sending_while_a_pause_lands_sends_once_and_the_next_step_is_held(seeded):  # noqa: F811
    app = seeded
    start(app)
    service, mailer = app.campaign_service, app.campaign_service.mailer
    claimed, release = threading.Event(), threading.Event()

    class SlowMailer:
        def send(self, email):
            claimed.set()  # the claim is committed: this send is before any pause from here on
            release.wait(10)
            return mailer.send(email)

    service.mailer = SlowMailer()
    from oie.campaigns.service import StepPayload

    outcome = []
    step = StepPayload.model_validate(app.tasks.tasks[0].payload)
    worker = threading.Thread(target=lambda: outcome.append(service.run_step(step)))
    worker.start()
    assert claimed.wait(10)
    act(app, "pause", "tenant")
    release.set()
    worker.join(10)
    assert outcome == ["sent"] and len(outbox(app)) == 1
    timer = app.tasks.tasks[-1]
    app.clock.advance(days=3)
    assert service.run_step(StepPayload.model_validate(timer.payload)) == "held"
    assert service.run_step(StepPayload.model_validate(app.tasks.tasks[1].payload)) == "held"  # the other contact
    assert len(outbox(app)) == 1


@pytest.fixture
def keys(seeded):  # noqa: F811
    from oie.tenants.service import create_tenant

    create_tenant(
        seeded.tenants,
        {
            "tenant_id": "beta",
            "name": "Beta",
            "redirect_domains": ("beta.com",),
            "default_landing_url": "https://beta.com/",
        },
        allow_local_secret=True,
    )
    seeded.importer.run("beta", "Q1", "https://beta.com/", parse_leads(csv_text("ada@example.com,Ada,,Engines,")), "x")
    seeded.campaign_senders.put("beta", SENDER)
    seeded.campaign_service.start_campaign("beta", "q1", TemplatePlanner(make_plan()))
    now = seeded.clock.now()
    return {
        "member": create_key(seeded.api_keys, "acme", ["outcomes:write", "outcomes:read"], "Sam SDR", now),
        "reader": create_key(seeded.api_keys, "acme", ["outcomes:read"], "dashboard", now),
        "beta": create_key(seeded.api_keys, "beta", ["admin"], "beta admin", now),
    }


def control(gateway, tenant, key, body):
    return gateway.post(
        f"/outcomes/t/{tenant}/campaigns/control", json=body, headers={"Authorization": f"Bearer {key}"}
    )


def test_the_api_pauses_resumes_and_refuses_a_resume_after_stop(seeded, gateway, keys):  # noqa: F811
    app = seeded
    start(app)
    body = {"action": "pause", "scope": "campaign", "campaign_id": "q1", "reason": "pricing change"}
    first, again = control(gateway, "acme", keys["member"], body), control(gateway, "acme", keys["member"], body)
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_json()["changed"] and not again.get_json()["changed"]
    assert first.get_json()["state"] == "paused"
    acme_steps = [t for t in app.tasks.tasks if t.payload["tenant_id"] == "acme"]
    assert deliver(app, gateway, acme_steps[0]) == "held"
    reason = app.warehouse.sql("select reason from campaign_transitions where trigger = 'pause'")
    assert reason == [{"reason": f"campaign pause by key:{keys['member'][4:16]} (Sam SDR): pricing change"}]
    resumed = control(gateway, "acme", keys["member"], {**body, "action": "resume"})
    assert resumed.status_code == 200 and resumed.get_json()["contacts"] == 1
    assert control(gateway, "acme", keys["member"], {**body, "action": "stop"}).status_code == 200
    refused = control(gateway, "acme", keys["member"], {**body, "action": "resume"})
    assert refused.status_code == 409 and refused.get_json()["error"]["field"] == "action"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"action": "halt", "scope": "tenant"}, 400, "action"),
        ({"action": "pause", "scope": "campaign"}, 400, "campaign_id"),
        ({"action": "pause", "scope": "campaign", "campaign_id": "../x"}, 400, "campaign_id"),
        ({"action": "pause", "scope": "contact", "lead_id": "nobody"}, 400, "lead_id"),
        ({"action": "pause", "scope": "tenant", "extra": 1}, 400, "extra"),
        ({"action": "pause", "scope": "campaign", "campaign_id": "nope"}, 404, "campaign_id"),
        ({"action": "pause", "scope": "contact", "lead_id": "ld_nobody000000000"}, 404, "lead_id"),
    ],
)
def test_the_api_names_the_field_of_a_bad_or_unknown_target(seeded, gateway, keys, body, status, field):  # noqa: F811
    start(seeded)
    response = control(gateway, "acme", keys["member"], body)
    assert response.status_code == status and response.get_json()["error"]["field"] == field


def test_another_tenants_key_or_lead_gets_the_usual_isolation_answers(seeded, gateway, keys):  # noqa: F811
    app = seeded
    start(app)
    body = {"action": "pause", "scope": "tenant"}
    assert control(gateway, "acme", keys["beta"], body).status_code == 403
    assert control(gateway, "acme", "oie_000000000000.wrong", body).status_code == 403
    assert control(gateway, "beta", keys["member"], body).status_code == 403
    assert control(gateway, "acme", keys["reader"], body).status_code == 403  # a read-only key may not pause
    assert gateway.post("/outcomes/t/acme/campaigns/control", json=body).status_code == 401
    (beta_state,) = app.campaign_service.states.in_campaign("beta", "q1", 10)
    beta_lead = {"action": "pause", "scope": "contact", "lead_id": beta_state.contact.lead_id}
    foreign = control(gateway, "acme", keys["member"], beta_lead)
    unknown = control(gateway, "acme", keys["member"], {**beta_lead, "lead_id": "ld_nobody000000000"})
    assert foreign.status_code == unknown.status_code == 404 and foreign.get_json() == unknown.get_json()
    assert app.campaign_service.states.control("acme", None).state == "running"
    assert not app.campaign_service.states.get("beta", beta_state.contact_campaign_id).paused


def test_the_cli_pauses_resumes_and_stops_with_tables_json_and_exit_codes(seeded, gateway):  # noqa: F811
    app = seeded
    start(app)
    runner = CliRunner()
    paused = runner.invoke(campaigns, ["pause", "--tenant", "acme", "--campaign", "q1", "--reason", "typo"])
    assert paused.exit_code == 0, paused.output
    assert "campaign q1: paused" in paused.output and "changed" in paused.output
    again = runner.invoke(campaigns, ["pause", "--tenant", "acme", "--campaign", "q1", "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["changed"] is False
    ada = lead_of(app, "ada@example.com")
    assert deliver(app, gateway, next(t for t in app.tasks.tasks if ada in t.payload["contact_campaign_id"])) == "held"
    contact = runner.invoke(campaigns, ["pause", "--tenant", "acme", "--contact", "GRACE@gmail.com", "--json"])
    assert contact.exit_code == 0 and json.loads(contact.output)["lead_id"] == lead_of(app, "grace@gmail.com")
    resumed = runner.invoke(campaigns, ["resume", "--tenant", "acme", "--campaign", "q1"])
    assert resumed.exit_code == 0 and "1 contact campaign(s) changed" in resumed.output
    stopped = runner.invoke(campaigns, ["stop", "--tenant", "acme", "--campaign", "q1"])
    assert stopped.exit_code == 0
    refused = runner.invoke(campaigns, ["resume", "--tenant", "acme", "--campaign", "q1", "--json"])
    assert refused.exit_code == 1 and json.loads(refused.output)["error"]["code"] == "conflict"
    unknown = runner.invoke(campaigns, ["pause", "--tenant", "acme", "--contact", "who@nowhere.example"])
    assert unknown.exit_code == 1 and "[contact]" in unknown.output
    bad = runner.invoke(campaigns, ["pause", "--tenant", "acme", "--campaign", "Not An Id"])
    assert bad.exit_code == 1 and "[campaign_id]" in bad.output
    assert runner.invoke(campaigns, ["pause"]).exit_code == 2
