"""Property tests of the Inbound Parse form: any form is accepted or refused with InputError,
and the HTTP handler never answers 5xx, whatever SendGrid (or anyone) posts."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from oie.devstack.gateway import build_gateway
from oie.errors import InputError
from oie.webhooks.inbound_auth import new_credential
from oie.webhooks.inbound_form import InboundForm, parse_form
from tests.factories import create_acme
from tests.fakes import RecordingQueue

FIELDS = ("from", "to", "subject", "text", "html", "headers", "envelope", "spam_score", "charsets", "attachments")
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
envelopes = st.one_of(
    st.text(max_size=60),
    json_values.map(json.dumps),
    st.fixed_dictionaries(
        {"to": st.one_of(json_values, st.lists(st.text(max_size=40), max_size=3)), "from": json_values}
    ).map(json.dumps),
)
header_names = st.sampled_from(
    ["Message-ID", "In-Reply-To", "References", "Subject", "Auto-Submitted", "Precedence", "X-Autoreply", "From"]
)
headers = st.lists(st.tuples(header_names | st.text(min_size=1, max_size=10), st.text(max_size=80)), max_size=6).map(
    lambda pairs: "\n".join(f"{name}: {value}" for name, value in pairs)
)
addresses = st.one_of(
    st.text(max_size=60),
    st.from_regex(r"\A[A-Za-z ]{0,10}<?reply\+[A-Za-z0-9_-]{4,20}@[a-z.]{1,20}>?\Z"),
    st.emails().map(str),
)


def value_for(name: str) -> st.SearchStrategy[str]:
    return {"envelope": envelopes, "headers": headers, "to": addresses, "from": addresses}.get(name, st.text())


# SendGrid's fields with values shaped like theirs (and not), or any fields at all.
forms = st.fixed_dictionaries({}, optional={k: value_for(k) for k in FIELDS}) | st.dictionaries(
    st.text(max_size=12), st.text(max_size=100), max_size=6
)


# Found by these tests: an envelope whose `to` is not a list was a 500; so was the parser's own
# first version of an envelope that is not an object.
REGRESSIONS = (
    {"from": "ada@example.com", "envelope": '{"to": 1}'},
    {"from": "0", "envelope": "0"},
    {"from": "a\x00b", "envelope": '{"to": ["\\ud800"], "from": 5}', "headers": "In-Reply-To: <" + "x" * 5000 + ">"},
)


@given(forms)
@example(REGRESSIONS[0])
@example(REGRESSIONS[1])
@example(REGRESSIONS[2])
@settings(max_examples=400, deadline=None)
def test_any_form_is_parsed_or_refused_with_input_error(form: dict[str, str]) -> None:
    try:
        parsed = parse_form(form)
    except InputError as exc:
        assert exc.field
        return
    assert isinstance(parsed, InboundForm)
    assert all(isinstance(r, str) for r in parsed.recipients)
    assert "\x00" not in parsed.text + parsed.sender + parsed.headers


@pytest.fixture
def inbound(app: Any) -> tuple[Client, dict[str, str]]:
    app.tasks = RecordingQueue()
    create_acme(app.tenants)
    credentials, stored = new_credential("acme")
    tenant = app.tenants.get("acme")
    app.tenants.put(tenant.model_copy(update={"inbound_parse_credential": stored}))
    token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    return Client(build_gateway()), {"Authorization": f"Basic {token}"}


@pytest.mark.firestore
@given(form=forms)
@example(form=REGRESSIONS[0])
@example(form=REGRESSIONS[1])
@example(form=REGRESSIONS[2])
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_form_makes_the_handler_answer_5xx(inbound: tuple[Client, dict[str, str]], form: dict[str, str]) -> None:
    gateway, auth = inbound
    response = gateway.post("/webhooks/inbound/acme", data=form, content_type="multipart/form-data", headers=auth)
    assert response.status_code in (200, 400), response.get_data(as_text=True)


@pytest.mark.firestore
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(
        [
            "multipart/form-data; boundary=x",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
        ]
    ),
    authorization=st.none() | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80),
)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_no_body_makes_the_handler_answer_5xx(
    inbound: tuple[Client, dict[str, str]], body: bytes, content_type: str, authorization: str | None
) -> None:
    gateway, auth = inbound
    headers = {**auth, "Content-Type": content_type}
    if authorization is not None:  # anything at all in place of the credential
        headers["Authorization"] = authorization
    response = gateway.post("/webhooks/inbound/acme", data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    if authorization is not None and authorization != auth["Authorization"]:
        assert response.status_code == 401
