"""The campaign_step handler's answers to Cloud Tasks: acknowledge, or ask for a retry and when."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from oie import deadlines, wiring
from oie.adapters.sendgrid_mailer import SendGridUnavailable
from oie.campaigns import http
from oie.errors import BackendUnavailable
from tests.conftest import make_settings

STEP = {
    "kind": "step",
    "tenant_id": "acme",
    "contact_campaign_id": "q1_ld_0000000000000001_email",
    "key": "intro",
    "version": 1,
    "due_at": "2026-03-01T09:00:00Z",
}


class FailingService:
    def __init__(self, error: Exception) -> None:
        self.error = error
        self.budget: float | None = None

    def run_step(self, payload: object) -> str:
        self.budget = deadlines.current().request_seconds
        raise self.error


def answer(tmp_path, error: Exception):
    service = FailingService(error)
    wiring.use(wiring.Container(make_settings(tmp_path), campaign_service=service))
    try:
        app = Flask(__name__)
        with app.test_request_context("/", method="POST", json=STEP):
            from flask import request

            return http.handle(request), service
    finally:
        wiring.use(None)


def test_a_provider_rate_limit_asks_cloud_tasks_to_retry_after_its_reset(tmp_path):
    response, service = answer(tmp_path, SendGridUnavailable("sendgrid answered 429", retry_after=12.2))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "13"
    assert service.budget == deadlines.for_function("campaign_step").request_seconds


@pytest.mark.parametrize("error", [BackendUnavailable("firestore: down")])
def test_an_outage_without_a_known_reset_retries_with_cloud_tasks_own_backoff(tmp_path, error):
    response, _ = answer(tmp_path, error)
    assert response.status_code == 503
    assert "Retry-After" not in response.headers
    assert json.loads(response.get_data())["error"]["code"] == "backend_unavailable"
