"""Schemathesis against the local stack: no input gives a 5xx, every answer matches docs/openapi.yaml.

Two passes over every operation of the document:
- `test_answers_conform_with_credentials`: what a real client can reach. The demo tenant on
  every path and body, an API key with every scope (made by the test), the tenant's own
  Origin, SendGrid deliveries signed with the key the stack trusts, and for half of the
  cases a lead that exists, so the generated data reaches the services, not only the guards;
- `test_answers_conform_without_credentials`: the requests exactly as generated (other
  tenants, no key, unsigned deliveries): each must get a documented 4xx.
Positive and negative data, a bounded number of examples per operation.
"""

from __future__ import annotations

import base64
import json
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from oie.outcomes.models import DEFAULT_OUTCOME_TYPES
from oie.webhooks.models import KNOWN_EVENTS
from oie.webhooks.signer import LocalSigner
from tests.contract import stack as local_stack

pytestmark = pytest.mark.firestore

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
TENANT = "demo"
OUTCOME_TYPES = sorted(DEFAULT_OUTCOME_TYPES)
SENDGRID_EVENTS = sorted(KNOWN_EVENTS)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25

config = schemathesis.Config.from_dict({"generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True}})
schema = schemathesis.openapi.from_path(DOCUMENT, config=config)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Target:
    stack: local_stack.RunningStack
    held: local_stack.Credentials
    signer: LocalSigner
    session: requests.Session
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    # The test gives the demo tenant an Inbound Parse credential from another process: the
    # stack must not serve the tenant from a cache made before that.
    running = local_stack.start(
        tmp_path_factory.mktemp("contract-stack"), extra_env={"OIE_LINK_CACHE_TTL_SECONDS": "0"}
    )
    try:
        held = running.credentials()
        with requests.Session() as session:
            found = Target(running, held, LocalSigner.load_or_create(running.data_dir), session)
            yield found
            # What the run reached, for `pytest -s`: statuses per operation.
            for (label, status), count in sorted(found.statuses.items()):
                print(f"{count:5} x {status} {label}")
    finally:
        running.stop()


def _coin(case: schemathesis.Case, salt: str, sides: int = 2) -> int:
    """A stable choice per case (Hypothesis keeps the data; this only decides what to replace)."""
    seed = f"{salt}{case.path_parameters}{case.query}{case.body!r}"
    return zlib.crc32(seed.encode()) % sides


def _real_values(case: schemathesis.Case, item: dict[str, Any], target: Target, salt: str) -> None:
    """In half the cases a lead that exists, a known outcome or event type, a timestamp of now."""
    if "lead_id" in item and target.held.leads and _coin(case, salt + "lead") == 0:
        item["lead_id"] = target.held.leads[_coin(case, salt, len(target.held.leads))]
    if "outcome_type" in item and _coin(case, salt + "type") == 0:
        item["outcome_type"] = OUTCOME_TYPES[_coin(case, salt, len(OUTCOME_TYPES))]
    if "ts" in item and _coin(case, salt + "ts") == 0:
        item["ts"] = int(time.time() * 1000)
    if "event" in item and "email" in item and _coin(case, salt + "event") == 0:  # a SendGrid event
        item["event"] = SENDGRID_EVENTS[_coin(case, salt, len(SENDGRID_EVENTS))]
        item["timestamp"] = int(time.time())


def _authorize(case: schemathesis.Case, target: Target) -> dict[str, str]:
    """Give the generated request what a real client holds; the extra headers to send."""
    path, held = case.operation.path, target.held
    headers: dict[str, str] = {}
    if case.path_parameters and "tenant" in case.path_parameters:
        case.path_parameters["tenant"] = TENANT
    if case.path_parameters and "lead" in case.path_parameters and held.leads and _coin(case, "path") == 0:
        case.path_parameters["lead"] = held.leads[0]
    if path.startswith("/outcomes/"):
        headers["Authorization"] = f"Bearer {held.api_key}"
    if path in ("/track", "/personalize"):
        headers["Origin"] = target.stack.base
        if isinstance(case.body, dict) and "tenant" in case.body:
            case.body["tenant"] = TENANT
        if case.query and "tenant" in case.query:
            case.query["tenant"] = TENANT
    if isinstance(case.body, dict):
        _real_values(case, case.body, target, "body")
    items = case.body if isinstance(case.body, list) else []
    if isinstance(case.body, dict):
        items = case.body.get("events") or case.body.get("outcomes") or []
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            _real_values(case, item, target, f"item{index}")
    if path == "/webhooks/inbound/{tenant}" and held.inbound:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(held.inbound).encode()).decode()
    if path == "/webhooks/unsubscribe" and held.unsubscribe_token and _coin(case, "t") == 0:
        case.query = {**(case.query or {}), "t": held.unsubscribe_token}
    return headers


def _send(case: schemathesis.Case, target: Target, headers: dict[str, str]) -> requests.Response:
    kwargs: dict[str, Any] = case.as_transport_kwargs(base_url=target.stack.base, headers=headers)
    if case.operation.path == "/webhooks/sendgrid/{tenant}":
        # Sign exactly the bytes that are sent, as SendGrid does.
        if "json" in kwargs:
            kwargs["data"] = json.dumps(kwargs.pop("json")).encode()
        body = kwargs.get("data") or b""
        body = body.encode() if isinstance(body, str) else body
        kwargs["data"] = body
        kwargs["headers"] = {**kwargs.get("headers", {}), **target.signer.headers(body, int(time.time()))}
    kwargs.setdefault("timeout", 15)
    return target.session.request(**kwargs)


def _explain(case: schemathesis.Case, response: requests.Response | schemathesis.Response, target: Target) -> str:
    log = [line for line in target.stack.output if "HTTP/1.1" not in line and '"INFO"' not in line]
    return (
        f"\n{case.operation.label}: {response.status_code}\n{case.as_curl_command(base_url=target.stack.base)}\n"
        f"answer: {response.text[:500]}\n--- the stack's log, last lines ---\n" + "\n".join(log[-60:])
    )


@schema.parametrize()
@FUZZ
def test_answers_conform_with_credentials(case: schemathesis.Case, target: Target) -> None:
    headers = _authorize(case, target)
    response = _send(case, target, headers)
    target.statuses[(case.operation.label, response.status_code)] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (AssertionError, BaseExceptionGroup):
        print(_explain(case, response, target))  # shown with the failure: the stack's traceback
        raise


@schema.include(path_regex="^/(outcomes|webhooks/(sendgrid|inbound))/").parametrize()
@settings(FUZZ, max_examples=6)
def test_answers_conform_without_credentials(case: schemathesis.Case, target: Target) -> None:
    response = case.call(base_url=target.stack.base, session=target.session, timeout=15)
    try:
        case.validate_response(response, checks=CHECKS)
    except (AssertionError, BaseExceptionGroup):
        print(_explain(case, response, target))  # shown with the failure: the stack's traceback
        raise
    # Negative cases include methods the operation does not have: those must be refused too.
    expected = (405,) if case.method.upper() != case.operation.method.upper() else (400, 401, 403, 404)
    assert response.status_code in expected, _explain(case, response, target)
