"""`oie jobs run NAME --remote` through the real Cloud Scheduler client, against a local gRPC server.

google-cloud-scheduler ships no servicer (it is a generated client only), so the server is a
generic gRPC handler for `google.cloud.scheduler.v1.CloudScheduler/RunJob` that speaks the
package's own request and response messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from click.testing import CliRunner
from google.cloud import scheduler_v1
from google.cloud.scheduler_v1.services.cloud_scheduler.transports import CloudSchedulerGrpcTransport
from google.cloud.scheduler_v1.types import cloudscheduler
from google.cloud.scheduler_v1.types import job as job_pb

from oie.cli.main import cli
from oie.errors import BackendUnavailable, Forbidden, NotFound, Unauthenticated
from oie.jobs.registry import load_registry
from oie.jobs.remote import RUN_JOB_SECONDS, run_remote

INFRA = Path(__file__).resolve().parents[3] / "infra" / "scheduler.tf"


@dataclass
class LocalScheduler:
    """Which jobs exist, what RunJob received, and a status to answer instead."""

    jobs: set[str] = field(default_factory=set)
    calls: list[tuple[cloudscheduler.RunJobRequest, dict[str, str], float | None]] = field(default_factory=list)
    refuse: grpc.StatusCode | None = None

    def run_job(self, request: cloudscheduler.RunJobRequest, context: Any) -> job_pb.Job:
        self.calls.append((request, dict(context.invocation_metadata()), context.time_remaining()))
        if self.refuse is not None:
            context.abort(self.refuse, "refused")
        if request.name not in self.jobs:
            context.abort(grpc.StatusCode.NOT_FOUND, f"Job not found: {request.name}")
        return job_pb.Job(name=request.name, state=job_pb.Job.State.ENABLED)


@pytest.fixture
def scheduler() -> Iterator[tuple[LocalScheduler, scheduler_v1.CloudSchedulerClient]]:
    local = LocalScheduler()
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        local.run_job,
        request_deserializer=cloudscheduler.RunJobRequest.deserialize,
        response_serializer=job_pb.Job.serialize,
    )
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("google.cloud.scheduler.v1.CloudScheduler", {"RunJob": handler}),)
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield local, scheduler_v1.CloudSchedulerClient(transport=CloudSchedulerGrpcTransport(channel=channel))
    channel.close()
    server.stop(grace=None).wait(5)


def terraform_job_id(prefix: str, job: str) -> str:
    """The job id infra/scheduler.tf creates: `${var.prefix}-${replace(each.key, "_", "-")}`."""
    assert re.search(r'name\s*=\s*"\$\{var\.prefix\}-\$\{replace\(each\.key, "_", "-"\)\}"', INFRA.read_text())
    return f"{prefix}-{job.replace('_', '-')}"


@pytest.mark.parametrize("job", sorted(load_registry()))
def test_run_remote_asks_for_the_job_terraform_created_with_a_deadline(scheduler, job):
    local, client = scheduler
    expected = f"projects/acme-prod/locations/europe-west1/jobs/{terraform_job_id('oie', job)}"
    local.jobs.add(expected)
    assert run_remote("acme-prod", "europe-west1", "oie", job, client=client) == expected

    ((request, metadata, remaining),) = local.calls
    assert request == cloudscheduler.RunJobRequest(name=expected)
    assert metadata["x-goog-request-params"] == f"name={expected}"  # how Cloud Scheduler routes it
    # gRPC rounds the deadline it sends up a little; the generated default would be 600 s.
    assert remaining is not None and RUN_JOB_SECONDS - 5 < remaining < RUN_JOB_SECONDS + 1


def test_a_job_that_does_not_exist_names_what_was_asked_for(scheduler):
    _, client = scheduler
    with pytest.raises(NotFound, match="projects/p/locations/us-central1/jobs/staging-score: check --prefix"):
        run_remote("p", "us-central1", "staging", "score", client=client)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (grpc.StatusCode.PERMISSION_DENIED, Forbidden),
        (grpc.StatusCode.UNAVAILABLE, BackendUnavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, BackendUnavailable),
    ],
)
def test_refusals_become_the_commands_errors(scheduler, code, error):
    local, client = scheduler
    local.refuse = code
    with pytest.raises(error):
        run_remote("p", "europe-west1", "oie", "score", client=client)


def test_without_google_credentials_the_command_says_so(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(Unauthenticated, match="no Google credentials"):
        run_remote("p", "europe-west1", "oie", "score")


def test_the_command_answers_one_line_instead_of_a_traceback(monkeypatch, tmp_path):
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    result = CliRunner().invoke(cli, ["jobs", "run", "score", "--remote", "--prefix", "staging"])
    assert result.exit_code == 1 and "no Google credentials to call Cloud Scheduler" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
