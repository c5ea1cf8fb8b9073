"""Starting a campaign in batches on the Firestore emulator: a re-run after a crash anywhere in a
batch starts nobody twice and misses nobody (one state, one first task, one start transition each)."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from oie.campaigns.firestore import CREATE_CHUNK, FirestoreCampaignStates
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.errors import BackendUnavailable
from oie.links.spool import LeadSpool
from tests.bench.bench_start import lead_lines
from tests.factories import create_acme
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan

pytestmark = pytest.mark.firestore
CONTACTS = CREATE_CHUNK * 3 + 17  # several batches, the last one partial


@pytest.fixture
def seeded(app):
    create_acme(app.tenants)
    app.campaign_senders.put(
        "acme", SenderIdentity(sender_id="sdr", from_email="sam@acme.com", verification="verified")
    )
    spool = LeadSpool.read(lead_lines(CONTACTS, "p"))
    app.importer.run("acme", "Big", "https://www.acme.com/demo", spool, "https://links.acme.com")
    return app


class CrashingQueue(RecordingQueue):
    """Takes `survive` tasks, then fails as a process killed mid-batch would; keeps every name it took."""

    def __init__(self, survive):
        super().__init__()
        self.survive = survive

    def enqueue(self, task):
        if self.survive is not None and len(self.tasks) >= self.survive:
            raise BackendUnavailable("the process died here")
        return super().enqueue(task)


class CrashingStates(FirestoreCampaignStates):
    """Commits the first `survive` batches, then fails before the next one."""

    def __init__(self, client, survive):
        super().__init__(client)
        self.survive = survive

    def _commit_creates(self, creates):
        if self.survive <= 0:
            raise BackendUnavailable("the process died here")
        self.survive -= 1
        return super()._commit_creates(creates)


def start(service):
    return service.start_campaign("acme", "big", TemplatePlanner(make_plan()))


def assert_everyone_started_once(app, queue):
    states = app.campaign_service.states.in_campaign("acme", "big", CONTACTS + 10)
    assert len(states) == CONTACTS
    assert sorted(t.name for t in queue.tasks) == sorted(s.pending.key for s in states)  # one first task each
    starts = app.warehouse.sql(
        "select contact_campaign_id, count(*) as n from campaign_transitions "
        "where trigger = 'start' group by contact_campaign_id"
    )
    assert len(starts) == CONTACTS and {r["n"] for r in starts} == {1}


def test_a_rerun_after_a_crash_between_the_writes_and_the_tasks_misses_nobody(seeded):
    queue = CrashingQueue(survive=CREATE_CHUNK + 5)
    service = replace(seeded.campaign_service, tasks=queue)
    with pytest.raises(BackendUnavailable):
        start(service)
    queue.survive = None
    report = start(service)
    assert report.started + report.already_running == CONTACTS and report.already_running > 0
    assert_everyone_started_once(seeded, queue)


def test_a_rerun_after_a_crash_between_batches_starts_nobody_twice(seeded):
    queue = RecordingQueue()
    crashing = CrashingStates(seeded.firestore, survive=2)
    with pytest.raises(BackendUnavailable):
        start(replace(seeded.campaign_service, tasks=queue, states=crashing))
    committed = len(seeded.campaign_service.states.in_campaign("acme", "big", CONTACTS + 10))
    assert 0 < committed < CONTACTS
    report = start(replace(seeded.campaign_service, tasks=queue))
    assert report.already_running == committed and report.started == CONTACTS - committed
    assert_everyone_started_once(seeded, queue)


def test_a_second_start_of_a_started_campaign_writes_and_enqueues_nothing_new(seeded):
    queue = RecordingQueue()
    service = replace(seeded.campaign_service, tasks=queue)
    assert start(service).started == CONTACTS
    again = start(service)
    assert (again.started, again.already_running) == (0, CONTACTS)
    assert len(queue.tasks) == CONTACTS


def test_a_started_state_is_stored_without_its_defaults_and_reads_back_whole(seeded):
    queue = RecordingQueue()
    service = replace(seeded.campaign_service, tasks=queue)
    start(service)
    state = service.states.in_campaign("acme", "big", 1)[0]
    raw = (
        seeded.firestore.collection("tenants")
        .document("acme")
        .collection("contact_campaigns")
        .document(state.contact_campaign_id)
        .get()
        .to_dict()
    )
    assert "replied_at" not in raw and "sends" not in raw and "paused" not in raw  # defaults left out
    assert raw["status"] == "active" and raw["held"] is False  # fields queries filter on stay stored
    assert service.states.get("acme", state.contact_campaign_id) == state
    assert state.sends == 0 and state.replied_at is None and state.pending is not None
    # The first steps are found by the lost-task sweep, which filters on their status.
    overdue = service.states.overdue(datetime(2100, 1, 1, tzinfo=UTC), CONTACTS + 10)
    assert {a.key for a in overdue} >= {state.pending.key}
    assert len([a for a in overdue if a.contact_campaign_id.startswith("big_")]) == CONTACTS


def test_a_campaigns_contacts_are_read_page_by_page_each_once_in_link_order(seeded, monkeypatch):
    monkeypatch.setattr("oie.campaigns.firestore.LINK_PAGE", 100)  # eight pages, the last one partial
    contacts = list(seeded.campaign_service.contacts.contacts("acme", "big"))
    assert len(contacts) == CONTACTS
    assert [c.tracking_id for c in contacts] == sorted(c.tracking_id for c in contacts)
    assert len({c.lead_id for c in contacts}) == CONTACTS and all(c.email.startswith("p") for c in contacts)
