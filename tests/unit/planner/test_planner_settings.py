"""The planner's settings: production talks to Vertex AI, never to a plain-HTTP server."""

import pytest

from oie.settings import Settings, secret_setting_names


def _prod(**fields: object) -> Settings:
    secrets = {name.removeprefix("OIE_").lower(): "a-real-secret-value" for name in secret_setting_names()}
    return Settings.model_validate({"env": "prod", "tasks": "local", **secrets, **fields})


def test_production_refuses_a_plain_http_planner_base_url():
    with pytest.raises(ValueError, match="OIE_PLANNER_BASE_URL"):
        _prod(planner_base_url="http://127.0.0.1:8090")


def test_production_takes_vertex_ai_or_an_https_endpoint():
    assert _prod().planner_base_url == ""
    assert _prod(planner_base_url="https://gemini-proxy.example").planner_base_url.startswith("https://")
