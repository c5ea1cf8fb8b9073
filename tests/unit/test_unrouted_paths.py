"""A path functions-framework's router cannot match still gets the JSON error envelope."""

from __future__ import annotations

from pathlib import Path

import functions_framework
import pytest

MAIN = Path(__file__).resolve().parents[2] / "functions" / "main.py"


@pytest.mark.parametrize(
    "target", ["go", "track", "personalize", "outcomes", "webhooks", "campaign_step", "campaign_plan", "jobs"]
)
def test_a_control_character_in_the_path_is_a_json_404_naming_the_path(target, monkeypatch):
    # create_app records its target in FUNCTION_TARGET; monkeypatch puts the variable back.
    monkeypatch.setenv("FUNCTION_TARGET", target)
    client = functions_framework.create_app(target=target, source=str(MAIN)).test_client()
    # Found by Schemathesis: werkzeug's path converter does not match a newline, so Flask
    # answered with its own HTML 404 before any handler ran.
    response = client.get("/t/a%0Ab/leads/%14x")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.get_json()["error"] == {"code": "not_found", "message": "no such path", "field": "path"}
