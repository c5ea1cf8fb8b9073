"""Cloud Tasks: one HTTP task per due step, named for de-dup, with an OIDC token."""

from __future__ import annotations

import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from google.api_core import exceptions as gexc
from google.cloud import tasks_v2
from google.protobuf import timestamp_pb2

from oie.adapters.gapic_deadlines import bound_transport
from oie.errors import BackendUnavailable
from oie.ports import Task

# Task creations in flight while a campaign starts: 100,000 one after another at ~30 ms is ~50 minutes.
CREATES_IN_FLIGHT = 16
_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.RetryError,
)


class CloudTasksQueue:
    def __init__(
        self,
        project: str,
        location: str,
        functions_base_url: str,
        invoker_service_account: str,
        client: tasks_v2.CloudTasksClient | None = None,
    ) -> None:
        if client is None:
            client = tasks_v2.CloudTasksClient()
            # The generated default is one 20 s attempt; the calling function's budget decides.
            bound_transport(client._transport, "tasks")
        self.client = client
        self.project = project
        self.location = location
        self.base_url = functions_base_url.rstrip("/")
        self.invoker = invoker_service_account

    def build(self, task: Task) -> tasks_v2.Task:
        """The Cloud Tasks task for one of ours (also used by the emulator tests)."""
        url = f"{self.base_url}/{task.function}"
        request = tasks_v2.HttpRequest(
            http_method=tasks_v2.HttpMethod.POST,
            url=url,
            headers={"Content-Type": "application/json"},
            body=json.dumps(task.payload).encode(),
        )
        if self.invoker:
            request.oidc_token = tasks_v2.OidcToken(service_account_email=self.invoker, audience=url)
        built = tasks_v2.Task(http_request=request)
        if task.name:
            built.name = self.client.task_path(self.project, self.location, task.queue, task.name)
        if task.schedule_at:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromDatetime(task.schedule_at)
            built.schedule_time = stamp
        return built

    def enqueue_many(self, tasks: Sequence[Task]) -> list[bool]:
        """`enqueue` for each, CREATES_IN_FLIGHT at once: Cloud Tasks has no batch call, one create is a round trip."""
        if len(tasks) <= 1:
            return [self.enqueue(task) for task in tasks]
        with ThreadPoolExecutor(min(len(tasks), CREATES_IN_FLIGHT)) as pool:
            return list(pool.map(self.enqueue, tasks))

    def enqueue(self, task: Task) -> bool:
        parent = self.client.queue_path(self.project, self.location, task.queue)
        try:
            self.client.create_task(parent=parent, task=self.build(task))
        except gexc.AlreadyExists:
            return False
        except _TRANSIENT as exc:
            raise BackendUnavailable(f"cloud tasks is unavailable ({exc}); try again shortly") from exc
        return True
