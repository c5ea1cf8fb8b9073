"""The two routes as Smartlead and Instantly reach them: credentials, statuses and error envelopes."""

from __future__ import annotations

import base64

import pytest
from flask import Flask

from oie import wiring
from oie.webhooks import http
from oie.webhooks.sequencers.auth import SECRET_HEADER, matches, new_secret, offered_secret, secret_hash, webhook_url
from oie.webhooks.sequencers.service import SequencerWebhooks
from tests.conftest import make_settings
from tests.unit.webhooks.sequencer_payloads import SECRET, encoded, instantly, make_parts, smartlead

JSON = {"Content-Type": "application/json"}


def basic(password: str, user: str = "smartlead") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def parts():
    return make_parts()


@pytest.fixture
def call(tmp_path, parts):
    wiring.use(wiring.Container(make_settings(tmp_path), sequencer_webhooks=SequencerWebhooks(**parts)))
    app = Flask(__name__)

    def send(path: str, body: bytes, headers: dict[str, str], method: str = "POST"):
        with app.test_request_context(path, method=method, data=body, headers={**JSON, **headers}):
            from flask import request

            response = http.handle(request)
        return response.status_code, response.get_json(silent=True)

    yield send
    wiring.use(None)


def test_smartlead_posts_with_the_secret_as_the_urls_password(call, parts):
    status, answer = call(
        "/webhooks/smartlead/acme", encoded(smartlead("EMAIL_REPLY")), basic(SECRET["smartlead"] + "acme")
    )
    assert status == 200 and (answer["accepted"], answer["enqueued"]) == (1, 1)


def test_instantly_posts_with_the_secret_header(call, parts):
    headers = {SECRET_HEADER.lower(): SECRET["instantly"] + "acme"}
    status, answer = call("/webhooks/instantly/acme", encoded(instantly("reply_received")), headers)
    assert status == 200 and answer["accepted"] == 1


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "unauthenticated"),
        (basic("guess"), 403, "forbidden"),
        ({"Authorization": "Bearer " + SECRET["instantly"] + "acme"}, 403, "forbidden"),
        ({"Authorization": "Basic %%%"}, 401, "unauthenticated"),
    ],
)
def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_stored(call, parts, headers, status, code):
    answer = call("/webhooks/smartlead/acme", encoded(smartlead("EMAIL_REPLY")), headers)
    assert answer[0] == status and answer[1]["error"]["code"] == code
    assert answer[1]["error"]["field"] == "authorization"
    assert not parts["warehouse"].tables and not parts["tasks"].tasks


def test_a_malformed_event_is_a_400_naming_its_field(call):
    body = encoded(instantly("email_opened", lead_email="nobody"))
    status, answer = call("/webhooks/instantly/acme", body, {SECRET_HEADER: SECRET["instantly"] + "acme"})
    assert status == 400 and answer["error"]["field"] == "lead_email"


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [
        ("/webhooks/smartlead/acme", "GET", 405),
        ("/webhooks/smartlead/..", "POST", 404),
        ("/webhooks/lemlist/acme", "POST", 404),
    ],
)
def test_other_methods_and_paths_are_refused(call, path, method, status):
    assert call(path, b"{}", basic(SECRET["smartlead"] + "acme"), method=method)[0] == status


def test_the_offered_secret_is_read_from_each_supported_place():
    assert offered_secret({"x-oie-webhook-secret": " s1 "}) == "s1"
    assert offered_secret({"Authorization": "Bearer s2"}) == "s2"
    assert offered_secret(basic("s3:with-colon")) == "s3:with-colon"
    assert offered_secret(basic("")) is None and offered_secret({}) is None


def test_a_secret_matches_only_its_tenant_and_sequencer():
    secret, stored = new_secret("acme", "smartlead")
    assert stored == secret_hash("acme", "smartlead", secret) and secret not in stored
    assert matches(stored, "acme", "smartlead", secret)
    assert not matches(stored, "globex", "smartlead", secret)
    assert not matches(stored, "acme", "instantly", secret)
    assert not matches(None, "acme", "smartlead", secret)


def test_the_smartlead_url_carries_the_secret_as_its_password_and_instantlys_does_not():
    assert webhook_url("https://fn.example/", "smartlead", "acme", "s3cr3t") == (
        "https://smartlead:s3cr3t@fn.example/webhooks/smartlead/acme"
    )
    assert webhook_url("https://fn.example", "instantly", "acme") == "https://fn.example/webhooks/instantly/acme"
