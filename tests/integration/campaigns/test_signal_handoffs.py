"""Intent hand-offs end to end: /track, the campaign_signals job and the outcomes service enqueue
signals; `campaign_step` consumes them; on the Firestore emulator, DuckDB and the real SQL."""

import json

import pytest
from werkzeug.test import Client

from oie.campaigns.contracts import IntentSignal
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.devstack.gateway import build_gateway
from oie.errors import BackendUnavailable
from oie.jobs.runner import run_job
from oie.links.csv_import import parse_leads
from oie.outcomes.auth import Actor
from oie.outcomes.models import OutcomeIn
from tests.factories import create_acme, csv_text
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan
from tests.unit.campaigns.signal_factories import intent_plan

pytestmark = pytest.mark.firestore
SENDER = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", from_name="Sam", verification="verified")
ORIGIN = "https://www.acme.com"
PROPS = {"pageview": {"title": "Pricing"}, "scroll": {"depth": 50}}
ADMIN = Actor(key_id="k1", label="sam", scopes=frozenset({"admin"}))


class DownQueue(RecordingQueue):
    def enqueue(self, task):
        raise BackendUnavailable("cloud tasks is unavailable")


@pytest.fixture
def seeded(app):
    app.tasks = RecordingQueue()
    create_acme(app.tenants, allowed_origins=(ORIGIN,))
    leads = parse_leads(csv_text("ada@example.com,Ada,,Engines,", "grace@gmail.com,Grace,,Cobol,"))
    app.importer.run("acme", "Q1", "https://www.acme.com/demo", leads, "https://links.acme.com")
    app.campaign_senders.put("acme", SENDER)
    return app


@pytest.fixture
def gateway():
    return Client(build_gateway())


def deliver(app, gateway, task):
    """Deliver a task as Cloud Tasks would: not before its schedule time."""
    if task.schedule_at and task.schedule_at > app.clock.current:
        app.clock.current = task.schedule_at
    response = gateway.post("/campaign_step", json=task.payload, headers={"X-CloudTasks-TaskName": task.name or ""})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["outcome"]


def tasks_on(app, queue):
    return [t for t in app.tasks.tasks if t.queue == queue]


def started(app, gateway, plan):
    """Both contacts started on `plan`, their intro sent; Ada's contact campaign."""
    app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(plan))
    assert [deliver(app, gateway, t) for t in tasks_on(app, "campaign-steps")] == ["sent", "sent"]
    (ada,) = [s for s in app.campaign_service.states.in_campaign("acme", "q1", 10) if s.contact.first_name == "Ada"]
    return ada


def state_of(app, ccid):
    return app.campaign_service.states.get("acme", ccid)


def track(app, gateway, tracking_id, *events):
    now = int(app.clock.now().timestamp() * 1000)
    body = {
        "v": 1,
        "tenant": "acme",
        "vid": "v1234567890abcd",
        "i": tracking_id,
        "sid": "s1234567",
        "events": [
            {"id": f"evt{n:08d}", "type": type_, "ts": now, "url": f"https://www.acme.com{path}", "props": PROPS[type_]}
            for n, (type_, path) in enumerate(events, start=1)
        ],
    }
    return gateway.post(
        "/track",
        data=json.dumps(body),
        headers={"Origin": ORIGIN, "Content-Type": "text/plain", "User-Agent": "Mozilla/5.0"},
    )


def moves(app, ccid):
    rows = app.warehouse.sql(
        f"select trigger from campaign_transitions where contact_campaign_id = '{ccid}' "
        "and trigger in ('page_visit', 'intent_level', 'outcome') order by occurred_at"
    )
    return [r["trigger"] for r in rows]


def test_a_watched_visitors_pricing_visit_moves_the_contact_to_the_pricing_follow_up(seeded, gateway):
    app = seeded
    ada = started(app, gateway, intent_plan())
    app.clock.advance(hours=2)
    assert (
        track(app, gateway, ada.contact.tracking_id, ("pageview", "/pricing"), ("scroll", "/pricing")).status_code
        == 202
    )
    (visit,) = tasks_on(app, "intent-signals")
    assert track(app, gateway, ada.contact.tracking_id, ("pageview", "/pricing")).status_code == 202  # a retried batch
    assert len(tasks_on(app, "intent-signals")) == 1
    assert [deliver(app, gateway, visit), deliver(app, gateway, visit)] == ["moved", "duplicate"]
    assert state_of(app, ada.contact_campaign_id).current_node == "pricing"
    pricing_send = tasks_on(app, "campaign-steps")[-1]
    assert deliver(app, gateway, pricing_send) == "sent"
    assert moves(app, ada.contact_campaign_id) == ["page_visit"]


def test_an_unwatched_visitors_batch_enqueues_nothing(seeded, gateway):
    app = seeded
    ada = started(app, gateway, make_plan())  # no page trigger: nobody is watched
    assert track(app, gateway, ada.contact.tracking_id, ("pageview", "/pricing")).status_code == 202
    assert track(app, gateway, None, ("pageview", "/pricing")).status_code == 202
    assert tasks_on(app, "intent-signals") == []


def test_a_level_crossing_before_an_older_page_visit_changes_the_campaign_once(seeded, gateway):
    app = seeded
    ada = started(app, gateway, intent_plan())
    app.clock.advance(hours=1)
    track(app, gateway, ada.contact.tracking_id, ("pageview", "/pricing"))  # enqueued, delivered late
    (visit,) = tasks_on(app, "intent-signals")
    app.clock.advance(hours=1)
    now = app.clock.now()
    app.warehouse.insert_rows(
        "job_runs", [{"run_id": "r-score", "job": "score", "started_at": now, "status": "ok"}], id_field="run_id"
    )
    change = {"tenant_id": "acme", "lead_id": ada.contact.lead_id, "score": 70.0, "changed_at": now}
    app.warehouse.insert_rows(
        "lead_level_changes",
        [
            {**change, "change_id": f"acme:{ada.contact.lead_id}:hot:1", "from_level": "warm", "to_level": "hot"},
            {**change, "change_id": f"acme:{ada.contact.lead_id}:warm:1", "from_level": "hot", "to_level": "warm"},
        ],
        id_field="change_id",
    )
    report = run_job("campaign_signals", app)
    assert report["level_changes"] == 1  # the fall is no signal
    assert run_job("campaign_signals", app)["level_changes"] == 0  # past the watermark
    level = tasks_on(app, "intent-signals")[-1]
    assert IntentSignal.model_validate(level.payload["signal"]).level == "hot"
    assert [deliver(app, gateway, level), deliver(app, gateway, level)] == ["moved", "duplicate"]
    assert deliver(app, gateway, visit) == "recorded"  # the hot follow-up waits on no page visit
    assert state_of(app, ada.contact_campaign_id).current_node == "followup_hot"
    assert moves(app, ada.contact_campaign_id) == ["intent_level"]


def test_an_appointment_recorded_in_outcomes_stops_the_campaign_before_its_next_send(seeded, gateway):
    app = seeded
    ada = started(app, gateway, intent_plan())
    item = OutcomeIn(lead_id=ada.contact.lead_id, outcome_type="appointment_set", outcome_id="oc_appointment1")
    assert app.outcomes_service.record("acme", item, ADMIN).created
    assert app.outcomes_service.record("acme", item, ADMIN).created is False  # a retried request
    (signal,) = tasks_on(app, "intent-signals")
    assert [deliver(app, gateway, signal), deliver(app, gateway, signal)] == ["closed", "no_active_campaign"]
    ada_state = state_of(app, ada.contact_campaign_id)
    assert ada_state.status == "closed" and ada_state.pending is None
    sends = len(list(app.settings.outbox_dir.glob("*.eml")))
    (timer,) = [
        t for t in tasks_on(app, "campaign-steps")[2:] if t.payload["contact_campaign_id"] == ada.contact_campaign_id
    ]
    assert deliver(app, gateway, timer) == "superseded"  # the no_open timer that would have sent the bump
    assert len(list(app.settings.outbox_dir.glob("*.eml"))) == sends
    assert moves(app, ada.contact_campaign_id) == ["outcome"]


def test_an_outcome_whose_enqueue_failed_is_recorded_and_handed_over_by_the_job(seeded, gateway):
    app = seeded
    ada = started(app, gateway, intent_plan())
    queue = app.tasks
    app.outcomes_service.tasks = DownQueue()
    item = OutcomeIn(lead_id=ada.contact.lead_id, outcome_type="closed_won", outcome_id="oc_won0000001")
    recorded = app.outcomes_service.record("acme", item, ADMIN)
    assert recorded.created and any("campaign_signals" in w for w in recorded.warnings)
    assert tasks_on(app, "intent-signals") == []
    app.warehouse.insert_rows(
        "job_runs",
        [{"run_id": "r-score", "job": "score", "started_at": app.clock.now(), "status": "ok"}],
        id_field="run_id",
    )
    assert run_job("campaign_signals", app)["outcomes_swept"] == 1
    (signal,) = [t for t in queue.tasks if t.queue == "intent-signals"]
    assert deliver(app, gateway, signal) == "closed"
    assert state_of(app, ada.contact_campaign_id).status == "closed"


def test_a_signal_naming_another_tenants_tracking_id_is_refused(seeded, gateway):
    app = seeded
    ada = started(app, gateway, intent_plan())
    create_acme(app.tenants, tenant_id="globex", name="Globex")
    forged = {
        "kind": "signal",
        "signal": {
            "signal_key": "event:forged00001",
            "tenant_id": "globex",
            "type": "page_visit",
            "occurred_at": app.clock.now().isoformat(),
            "tracking_id": ada.contact.tracking_id,
            "url": "https://www.acme.com/pricing",
        },
    }
    assert gateway.post("/campaign_step", json=forged).get_json()["outcome"] == "unknown_lead"
    assert state_of(app, ada.contact_campaign_id).current_node == "intro"


def test_a_malformed_signal_is_acknowledged_and_changes_nothing(seeded, gateway):
    response = gateway.post("/campaign_step", json={"kind": "signal", "signal": {"type": "page_visit"}})
    assert response.status_code == 200
    assert response.get_json() == {"outcome": "ignored", "reason": "malformed"}
