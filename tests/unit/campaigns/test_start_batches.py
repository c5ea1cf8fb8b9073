"""Starting a campaign writes its contacts in chunks, enqueues their tasks together, records once a chunk."""

from dataclasses import replace

from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.starting import START_CHUNK
from tests.fakes import FakeWarehouse, RecordingQueue
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import make_contact, make_plan
from tests.unit.campaigns.test_service import svc  # noqa: F401  (the fixture)

CONTACTS = START_CHUNK * 2 + 3


class CountingStates(fakes.MemoryStates):
    def __init__(self):
        super().__init__()
        self.batches: list[int] = []

    def create_many(self, starts):
        self.batches.append(len(starts))
        return super().create_many(starts)


class BatchQueue(RecordingQueue):
    def __init__(self):
        super().__init__()
        self.calls: list[int] = []

    def enqueue_many(self, tasks):
        self.calls.append(len(tasks))
        return [self.enqueue(task) for task in tasks]


class CountingWarehouse(FakeWarehouse):
    def __init__(self):
        super().__init__()
        self.inserts = 0

    def insert_rows(self, table, rows, *, id_field):
        self.inserts += 1
        super().insert_rows(table, rows, id_field=id_field)


def contacts():
    return [make_contact(lead_id=f"ld_{n:016d}", email=f"p{n}@example.com") for n in range(CONTACTS)]


def test_contacts_are_written_a_chunk_at_a_time_with_their_tasks_enqueued_together(svc):  # noqa: F811
    service = replace(
        svc,
        states=CountingStates(),
        tasks=BatchQueue(),
        warehouse=CountingWarehouse(),
        contacts=fakes.MemoryContacts(*contacts()),
    )
    progress: list[int] = []
    report = service.start_campaign("acme", "q1", TemplatePlanner(make_plan()), progress=progress.append)
    assert report.started == CONTACTS and len(report.plan_versions) == 1
    assert service.states.batches == progress == [START_CHUNK, START_CHUNK, 3]
    assert service.tasks.calls == [START_CHUNK, START_CHUNK, 3] and len(service.tasks.names) == CONTACTS
    assert service.warehouse.inserts == 3  # one transitions insert a chunk, not one a contact


def test_a_second_start_enqueues_again_only_contacts_untouched_since_their_start(svc):  # noqa: F811
    service = replace(svc, tasks=BatchQueue(), contacts=fakes.MemoryContacts(*contacts()[:3]))
    service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    moved = next(iter(service.states.states.values()))
    service.states.states[(moved.tenant_id, moved.contact_campaign_id)] = moved.model_copy(
        update={"updated_at": moved.updated_at.replace(year=2027), "pending": None}
    )
    again = service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    assert (again.started, again.already_running) == (0, 3)
    assert service.tasks.calls[-1] == 2  # the moved one is left alone; the others' names are refused
    assert len(service.tasks.tasks) == 3
