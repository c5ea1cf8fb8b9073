"""cloudbuild.yaml tests, builds, packages, uploads, migrates, deploys and smoke-tests, in order."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from terraform_model import REPO_ROOT, Infra

# Stage -> what its step must say (all fragments, in the step's args).
STAGES = {
    "test": [".ci/run"],
    "pixel build": ["npm ci", "npm run build"],
    "package": ["package_functions.py", "functions/requirements.txt"],
    "upload": ["gcloud storage cp", "functions-$$HASH.zip", "pixel/dist/*.js"],
    "migrate": ["pip install", "oie warehouse migrate"],
    "plan": ["terraform plan", "-var source_hash="],
    "apply": ["terraform apply", "tfplan"],
    "smoke": ["curl", "302", "function_urls.json"],
}


@pytest.fixture(scope="module")
def build() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "cloudbuild.yaml").read_text())
    return loaded


def step_text(step: dict[str, Any]) -> str:
    return " ".join(str(arg) for arg in step.get("args", [])) + " " + str(step.get("script", ""))


def stage_index(build: dict[str, Any], stage: str) -> int:
    matches = [i for i, step in enumerate(build["steps"]) if all(f in step_text(step) for f in STAGES[stage])]
    assert len(matches) == 1, f"expected one {stage} step in cloudbuild.yaml, found {len(matches)}"
    return matches[0]


def test_deploy_steps_run_in_order(build: dict[str, Any]) -> None:
    order = [stage_index(build, stage) for stage in STAGES]
    assert order == sorted(order), f"steps out of order: {dict(zip(STAGES, order, strict=True))}"
    # Steps run one after another: none may start early with waitFor.
    assert not any("waitFor" in step for step in build["steps"])


def test_terraform_uses_the_environment_backend_and_the_source_hash(build: dict[str, Any]) -> None:
    text = " ".join(step_text(step) for step in build["steps"])
    assert "terraform init" in text and "-backend-config=env/${_ENV}.backend.hcl" in text
    assert "-backend-config=bucket=${_TF_STATE_BUCKET}" in text
    assert {"_ENV", "_REGION", "_TF_STATE_BUCKET"} <= set(build["substitutions"])
    assert "$PROJECT_ID" in text


def test_migration_targets_bigquery(build: dict[str, Any]) -> None:
    migrate = build["steps"][stage_index(build, "migrate")]
    assert "OIE_WAREHOUSE=bigquery" in migrate.get("env", [])


def test_the_archive_uploaded_is_the_one_terraform_deploys(build: dict[str, Any], infra: Infra) -> None:
    assert infra.locals["source_object"] == "functions-${var.source_hash}.zip"
    storage = infra.resource("google_cloudfunctions2_function", "function")["build_config"][0]["source"][0]
    assert storage["storage_source"][0]["object"] == "${local.source_object}"


def test_the_trigger_builds_main_with_this_file(infra: Infra) -> None:
    trigger = infra.resource("google_cloudbuild_trigger", "main")
    assert trigger["filename"] == "cloudbuild.yaml"
    assert trigger["github"][0]["push"][0]["branch"] == "${var.cloudbuild_trigger.branch_regex}"
    assert '"^main$"' in infra.variables["cloudbuild_trigger"]["type"]
    assert set(trigger["substitutions"]) == {"_ENV", "_REGION", "_TF_STATE_BUCKET"}
