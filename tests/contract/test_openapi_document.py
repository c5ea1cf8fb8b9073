"""docs/openapi.yaml against the code: its schemas are the models', its operations the routes served.

Both directions: every documented operation is served (the real gateway answers it with
something else than "no such route" or 405), and every route the public functions serve is
documented (the outcomes API's routing table is read; the other handlers route by hand, so
every method on each of their paths is tried: what is not documented must be refused).
"""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from schemathesis.specs.openapi.definitions import OPENAPI_31
from werkzeug.test import Client, TestResponse

from oie import wiring
from oie.devstack.gateway import FUNCTIONS, build_gateway
from oie.outcomes.http import API
from tests.contract.openapi_models import generated_schemas, load_document

pytestmark = pytest.mark.firestore

DOC = load_document()
METHODS = ("get", "put", "post", "delete", "options", "patch")
# Served by the public functions but not public API: the admin HTML pages (a person's browser).
NOT_PUBLIC_FUNCTIONS = {"go", "campaign_step", "campaign_plan", "jobs"}
SAMPLE = {"tenant": "acme", "lead": "ld_0000000000000000"}


def operations() -> list[tuple[str, str]]:
    return [(path, method) for path, item in DOC["paths"].items() for method in item if method in METHODS]


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


def test_the_generated_schemas_are_the_models_current_ones() -> None:
    published = DOC["components"]["schemas"]
    generated = generated_schemas()
    stale = sorted(n for n, s in published.items() if s.get("x-generated") and n not in generated)
    changed = sorted(n for n, s in generated.items() if published.get(n) != s)
    assert not stale and not changed, (
        f"docs/openapi.yaml is out of date (changed: {changed}, stale: {stale}): "
        "run .venv/bin/python -m tests.contract.openapi_models --write"
    )


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1")
    errors = [e.message for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(DOC)]
    assert errors == []
    schema = schemathesis.openapi.from_dict(DOC)
    labels = [op.ok().label for op in schema.get_all_operations()]
    assert len(labels) == len(operations())


def test_every_reference_resolves() -> None:
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(DOC)
    for ref in refs:
        target: Any = DOC
        for part in ref.removeprefix("#/").split("/"):
            assert isinstance(target, dict) and part in target, f"{ref} does not resolve"
            target = target[part]


def test_the_documented_paths_are_the_public_functions() -> None:
    documented = {path.split("/")[1] for path in DOC["paths"]}
    assert documented == set(FUNCTIONS) - NOT_PUBLIC_FUNCTIONS


def test_every_outcomes_api_route_is_documented_and_nothing_else() -> None:
    bound = API.bind("")
    served = {(rule.endpoint, method) for rule in API.iter_rules() for method in rule.methods or () if method != "HEAD"}
    documented = set()
    for path, method in operations():
        if path.startswith("/outcomes/"):
            endpoint, _ = bound.match(concrete(path).removeprefix("/outcomes"), method=method.upper())
            documented.add((endpoint, method.upper()))
    assert served == documented


def _is_routed(response: TestResponse) -> bool:
    """Not "no such route": a 404 that names a field (a lead, a tenant) is the handler's answer."""
    if response.status_code == 405:
        return False
    if response.status_code != 404:
        return True
    if not response.is_json:
        return False
    error = (response.get_json() or {}).get("error", {})
    return error.get("field") not in (None, "path")


@pytest.fixture
def gateway(app: wiring.Container) -> Client:
    return Client(build_gateway())


@pytest.mark.parametrize(("path", "method"), operations())
def test_every_documented_operation_is_served(gateway: Client, path: str, method: str) -> None:
    response = gateway.open(concrete(path), method=method.upper(), data=b"")
    assert _is_routed(response), f"{method.upper()} {path}: {response.status_code} {response.get_data()[:200]!r}"


@pytest.mark.parametrize("path", sorted(DOC["paths"]))
def test_no_undocumented_method_is_served(gateway: Client, path: str) -> None:
    documented = {m for m in DOC["paths"][path] if m in METHODS}
    for method in sorted(set(METHODS) - documented):
        response = gateway.open(concrete(path), method=method.upper(), data=b"")
        assert not _is_routed(response), f"{method.upper()} {path} is served but not documented"


# /track and /personalize answer one path each and ignore what follows it (as a Cloud Function
# does); the functions that route by path are probed beside each documented path.
@pytest.mark.parametrize(
    "path",
    [
        "/webhooks",
        "/webhooks/sendgrid",
        "/webhooks/sendgrid/acme/extra",
        "/webhooks/inbound",
        "/webhooks/other/acme",
        "/webhooks/unsubscribe/extra",
        "/outcomes/t/acme",
        "/outcomes/t/acme/unknown",
    ],
)
def test_paths_beside_the_documented_ones_are_not_served(gateway: Client, path: str) -> None:
    for method in ("GET", "POST"):
        response = gateway.open(path, method=method, data=b"")
        assert not _is_routed(response), f"{method} {path} answers {response.status_code}"
