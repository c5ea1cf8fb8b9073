"""infra/ conventions: described, typed, sorted variables and outputs; a header line per file."""

from __future__ import annotations

from terraform_model import Infra


def test_every_variable_has_a_description_and_a_type(infra: Infra) -> None:
    for name, body in infra.variables.items():
        assert body.get("description"), f"variable {name} has no description"
        assert body.get("type"), f"variable {name} has no type"


def test_variables_and_outputs_are_sorted(infra: Infra) -> None:
    assert infra.variable_order == sorted(infra.variable_order)
    assert infra.output_order == sorted(infra.output_order)
    for name, body in infra.outputs.items():
        assert body.get("description"), f"output {name} has no description"


def test_every_file_opens_with_a_one_line_comment(infra: Infra) -> None:
    for name, text in infra.texts.items():
        first, second = [*text.splitlines(), "", ""][:2]
        assert first.startswith("# ") and not second.startswith("#"), f"{name} must open with a one-line comment"


def test_disposable_firestore_data_expires_and_spooled_clicks_do_not(infra: Infra) -> None:
    ttl = infra.locals["firestore_ttl_fields"]
    # The collections the code writes with an expiry: webhook de-dup markers, rate-limit buckets.
    assert ttl.get("webhook_event_keys") == "expire_at" and ttl.get("rate_buckets") == "expires_at"
    assert "spooled_clicks" not in ttl, "spooled clicks must never expire before they are drained"


def test_load_balancer_passes_client_geo_and_throttles(infra: Infra) -> None:
    headers = infra.locals["client_geo_headers"]
    assert "X-Client-Geo-Country:{client_region}" in headers
    assert "X-Client-Geo-Region:{client_region_subdivision}" in headers
    assert "X-Client-Geo-City:{client_city}" in headers
    backend = infra.resource("google_compute_backend_service", "function")
    assert backend["custom_request_headers"] == "${local.client_geo_headers}"
    rules = infra.resource("google_compute_security_policy", "edge")["rule"]
    assert any(rule["action"] == "throttle" and rule.get("rate_limit_options") for rule in rules)


def test_warehouse_partitions_expire_after_two_years_by_default(infra: Infra) -> None:
    assert "optional(number, 730)" in infra.variables["bigquery"]["type"]
    assert "google_bigquery_table" not in infra.resources, "tables come from `oie warehouse migrate`, not Terraform"
