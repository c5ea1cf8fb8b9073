"""A local BigQuery REST emulator (bqemulator, DuckDB-backed) under the real google-cloud-bigquery client."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from oie.devstack.emulator import free_port

REPO = Path(__file__).resolve().parents[3]
PYTHON = REPO / ".venv-bigquery-emulator" / "bin" / "python"
SERVE = REPO / "tests" / "bigquery_emulator" / "serve.py"
PROJECT = "oie-test"


class RecordingSession(requests.Session):
    """The client's own HTTP session, keeping every request it sent (method, path, JSON body)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.sent.append(request)
        return super().send(request, **kwargs)


@pytest.fixture(scope="session")
def bigquery_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """bqemulator on a free port for the session, stopped by pid (`make test` installs it first)."""
    if not PYTHON.exists():
        pytest.fail("bqemulator is missing: run `make bigquery-emulator` (tests/bigquery_emulator/ensure.sh)")
    port = free_port()
    log = (tmp_path_factory.mktemp("bqemulator") / "emulator.log").open("w")
    process = subprocess.Popen(
        [
            *(str(PYTHON), str(SERVE), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port)),
            *("--grpc-host", "127.0.0.1", "--grpc-port", "0", "--project", PROJECT),
            *("--ephemeral", "--log-level", "warning"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets", timeout=1).ok:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"bqemulator did not start; see {log.name}")
            time.sleep(0.2)
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def recorder() -> RecordingSession:
    return RecordingSession()


@pytest.fixture(scope="module")
def bq_client(bigquery_endpoint: str, recorder: RecordingSession) -> bigquery.Client:
    """The real client, pointed at the emulator, sending through a recording session."""
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=bigquery_endpoint),
        _http=recorder,
    )
