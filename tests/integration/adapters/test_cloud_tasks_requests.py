"""What our Cloud Tasks adapter puts on the wire, read by a gRPC client interceptor.

The emulator keeps a task's OIDC token but never mints one when it dispatches, and it has
no ALREADY_EXISTS: so the token, audience, schedule and name are asserted on the exact
CreateTaskRequest the real client sends, and Cloud Tasks' refusals are played by the
interceptor answering as the service would (a real gRPC status, mapped by the real client).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.cloud import tasks_v2
from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

from oie import queues
from oie.adapters.cloud_tasks import CloudTasksQueue
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.sending import Links
from oie.campaigns.service import StepPayload
from oie.errors import BackendUnavailable
from oie.ports import Task
from oie.settings import Settings, secret_setting_names
from tests.factories import make_tenant
from tests.fakes import FakeTenantStore
from tests.integration.adapters import tasks_emulator
from tests.unit.campaigns import fakes
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.campaigns.send_fakes import memory_service

PROJECT, LOCATION = "oie-test", "europe-west1"
BASE = "https://europe-west1-oie-test.cloudfunctions.net"
INVOKER = "oie-tasks-invoker@oie-test.iam.gserviceaccount.com"
CREATE_TASK = "/google.cloud.tasks.v2.CloudTasks/CreateTask"


class _Refusal(grpc.RpcError, grpc.Call, grpc.Future):
    """A failed unary call as grpc hands it to the client: what Cloud Tasks answers."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self) -> None:
        return None

    def trailing_metadata(self) -> None:
        return None

    def result(self, timeout: float | None = None) -> Any:
        raise self

    def exception(self, timeout: float | None = None) -> Exception:
        return self

    def traceback(self, timeout: float | None = None) -> None:
        return None

    def is_active(self) -> bool:
        return False

    def time_remaining(self) -> None:
        return None

    def cancel(self) -> bool:
        return False

    def cancelled(self) -> bool:
        return False

    def running(self) -> bool:
        return False

    def done(self) -> bool:
        return True

    def add_callback(self, callback: Callable[[], None]) -> bool:
        return False

    def add_done_callback(self, fn: Callable[[Any], None]) -> None:
        fn(self)


class Wire(grpc.UnaryUnaryClientInterceptor):
    """Records every CreateTask as sent; optionally answers a status instead of the emulator."""

    def __init__(self) -> None:
        self.sent: list[tuple[tasks_v2.CreateTaskRequest, dict[str, str], float | None]] = []
        self.answer: Callable[[tasks_v2.CreateTaskRequest], grpc.StatusCode | None] = lambda request: None

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        if details.method == CREATE_TASK:
            # The bytes the client serializes, read back: exactly what leaves the process.
            sent = tasks_v2.CreateTaskRequest.deserialize(tasks_v2.CreateTaskRequest.serialize(request))
            self.sent.append((sent, dict(details.metadata or ()), details.timeout))
            code = self.answer(sent)
            if code is not None:
                return _Refusal(code, f"cloud tasks answered {code.name}")
        return continuation(details, request)

    def tasks(self) -> list[tasks_v2.Task]:
        return [request.task for request, _, _ in self.sent]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with tasks_emulator.running(tmp_path_factory.mktemp("tasks")) as host:
        yield host


@pytest.fixture
def wire(emulator: str) -> Iterator[tuple[Wire, tasks_v2.CloudTasksClient]]:
    recorder = Wire()
    channel = grpc.intercept_channel(grpc.insecure_channel(emulator), recorder)
    client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
    for name in queues.QUEUES:
        client.create_queue(
            parent=f"projects/{PROJECT}/locations/{LOCATION}",
            queue=tasks_v2.Queue(name=client.queue_path(PROJECT, LOCATION, name)),
        )
    yield recorder, client
    channel.close()


def test_the_create_task_request_is_exactly_ours(wire):
    recorder, client = wire
    queue = CloudTasksQueue(PROJECT, LOCATION, BASE + "/", INVOKER, client=client)
    due = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    payload = {"kind": "step", "key": "st-1", "text": "é"}
    assert queue.enqueue(
        Task(queue="campaign-steps", function="campaign_step", payload=payload, name="st-1", schedule_at=due)
    )

    ((request, metadata, _),) = recorder.sent
    parent = f"projects/{PROJECT}/locations/{LOCATION}/queues/campaign-steps"
    expected = tasks_v2.CreateTaskRequest(
        parent=parent,
        task=tasks_v2.Task(
            name=f"{parent}/tasks/st-1",
            schedule_time=due,
            http_request=tasks_v2.HttpRequest(
                url=f"{BASE}/campaign_step",
                http_method=tasks_v2.HttpMethod.POST,
                headers={"Content-Type": "application/json"},
                body=json.dumps(payload).encode(),
                # The function is private: Cloud Tasks mints this account's token for this audience.
                oidc_token=tasks_v2.OidcToken(service_account_email=INVOKER, audience=f"{BASE}/campaign_step"),
            ),
        ),
    )
    assert request == expected
    assert request.task.schedule_time == due  # to the microsecond
    # Cloud Tasks routes the call by this header; the generated client adds it from `parent`.
    assert metadata["x-goog-request-params"] == f"parent={parent}"


def test_a_task_without_name_or_time_leaves_both_for_cloud_tasks_to_choose(wire):
    recorder, client = wire
    queue = CloudTasksQueue(PROJECT, LOCATION, BASE, INVOKER, client=client)
    assert queue.enqueue(Task(queue="webhook-events", function="campaign_step", payload={"kind": "event"}))
    (task,) = recorder.tasks()
    pb = tasks_v2.Task.pb(task)
    assert task.name == "" and not pb.HasField("schedule_time")  # "now", and a name Cloud Tasks picks
    assert task.http_request.oidc_token.service_account_email == INVOKER


def test_every_task_a_campaign_creates_carries_the_invokers_token_for_its_own_function(wire):
    recorder, client = wire
    svc = memory_service(
        senders=fakes.MemorySenders(
            SenderIdentity(sender_id="sdr", from_email="sam@acme.com", verification="verified")
        ),
        contacts=fakes.MemoryContacts(
            make_contact(), make_contact(lead_id="ld_0000000000000002", email="bo@example.com")
        ),
        tenants=FakeTenantStore(make_tenant()),
        tasks=CloudTasksQueue(PROJECT, LOCATION, BASE, INVOKER, client=client),
        links=Links("https://links.acme.com", BASE, b"u" * 32),
    )
    assert svc.start_campaign("acme", "q1", TemplatePlanner(make_plan())).started == 2
    for task in recorder.tasks():  # each first step, as Cloud Tasks would deliver it
        assert svc.run_step(StepPayload.model_validate(json.loads(task.http_request.body))) == "sent"
    svc.requeue_overdue(older_than=-(T0 - datetime(2020, 1, 1, tzinfo=UTC)))  # re-enqueues every scheduled step

    created = recorder.tasks()
    assert len(created) == 6  # two first steps, two follow-ups they scheduled, two re-enqueued
    for task in created:
        step = StepPayload.model_validate(json.loads(task.http_request.body))
        assert task.http_request.url == f"{BASE}/campaign_step"
        assert task.http_request.oidc_token == tasks_v2.OidcToken(
            service_account_email=INVOKER, audience=f"{BASE}/campaign_step"
        )
        assert task.schedule_time == step.due_at
        assert task.name.startswith(f"projects/{PROJECT}/locations/{LOCATION}/queues/campaign-steps/tasks/{step.key}")
    names = [t.name for t in created]
    assert len(set(names)) == len(names)  # a re-enqueue gets a name of its own, or Cloud Tasks would drop it


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (grpc.StatusCode.ALREADY_EXISTS, False),  # the name was used: de-duplicated, a success
        (grpc.StatusCode.UNAVAILABLE, BackendUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, BackendUnavailable),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, BackendUnavailable),
    ],
)
def test_cloud_tasks_answers_map_through_the_real_client(wire, code, outcome):
    recorder, client = wire
    recorder.answer = lambda request: code
    queue = CloudTasksQueue(PROJECT, LOCATION, BASE, INVOKER, client=client)
    task = Task(queue="campaign-steps", function="campaign_step", payload={}, name="st-x")
    if outcome is False:
        assert queue.enqueue(task) is False
    else:
        with pytest.raises(outcome):
            queue.enqueue(task)


def test_a_second_task_of_a_name_is_answered_already_exists_and_counts_as_enqueued(wire):
    recorder, client = wire
    seen: set[str] = set()

    def dedup(request: tasks_v2.CreateTaskRequest) -> grpc.StatusCode | None:
        # Cloud Tasks keeps a task's name for about an hour after it ran or was deleted.
        if request.task.name in seen:
            return grpc.StatusCode.ALREADY_EXISTS
        seen.add(request.task.name)
        return None

    recorder.answer = dedup
    queue = CloudTasksQueue(PROJECT, LOCATION, BASE, INVOKER, client=client)
    task = Task(queue="campaign-steps", function="campaign_step", payload={}, name="st-once")
    assert [queue.enqueue(task), queue.enqueue(task)] == [True, False]
    assert [t.name for t in recorder.tasks()] == [client.task_path(PROJECT, LOCATION, "campaign-steps", "st-once")] * 2


def test_a_production_deployment_without_the_invoker_account_is_refused():
    secrets = {name.removeprefix("OIE_").lower(): "x" * 40 for name in secret_setting_names()}
    with pytest.raises(ValueError, match="OIE_TASKS_INVOKER_SERVICE_ACCOUNT"):
        Settings(env="prod", tasks="cloud", tasks_invoker_service_account="", **secrets)
    assert Settings(env="prod", tasks="cloud", tasks_invoker_service_account=INVOKER, **secrets).tasks == "cloud"


def test_enqueue_many_creates_each_task_once_and_answers_false_for_a_name_already_taken(wire):
    recorder, client = wire
    seen: set[str] = set()
    lock = threading.Lock()

    def dedup(request: tasks_v2.CreateTaskRequest) -> grpc.StatusCode | None:
        with lock:  # several creates are in flight at once
            taken = request.task.name in seen
            seen.add(request.task.name)
        return grpc.StatusCode.ALREADY_EXISTS if taken else None

    recorder.answer = dedup
    queue = CloudTasksQueue(PROJECT, LOCATION, BASE, INVOKER, client=client)
    tasks = [
        Task(queue="campaign-steps", function="campaign_step", payload={"n": n}, name=f"many-{n}") for n in range(40)
    ]
    assert queue.enqueue(tasks[7])
    assert queue.enqueue_many(tasks) == [n != 7 for n in range(40)]
    created = [request.task.name.rsplit("/", 1)[-1] for request, _, _ in recorder.sent]
    assert sorted(created) == sorted(["many-7", *(f"many-{n}" for n in range(40))])
