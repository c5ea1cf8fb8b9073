"""The infra checks fail on a broken copy of infra/: each mutation must trip its check."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import infra_checks
import pytest
from terraform_model import Infra, load_infra


def remove_block(text: str, opening: str) -> str:
    """Drop the HCL block whose first line matches `opening` (regex), braces balanced."""
    match = re.search(opening, text, flags=re.MULTILINE)
    assert match, f"no block matching {opening!r}"
    depth, end = 0, match.start()
    for end in range(text.index("{", match.start()), len(text)):
        depth += {"{": 1, "}": -1}.get(text[end], 0)
        if depth == 0:
            break
    return text[: match.start()] + text[end + 1 :]


def broken_copy(infra_dir: Path, tmp_path: Path, filename: str, mutate: Callable[[str], str]) -> Infra:
    copy = tmp_path / "infra"
    shutil.copytree(infra_dir, copy, ignore=shutil.ignore_patterns(".terraform", "tools"))
    target = copy / filename
    before = target.read_text()
    after = mutate(before)
    assert after != before, "the mutation changed nothing"
    target.write_text(after)
    return load_infra(copy)


MUTATIONS = {
    "a function's entry removed from the functions map": (
        "functions.tf",
        lambda text: remove_block(text, r"^    jobs = \{"),
        infra_checks.check_every_entry_point_is_deployed,
    ),
    "the scheduler job resource removed": (
        "scheduler.tf",
        lambda text: remove_block(text, r'^resource "google_cloud_scheduler_job" "job"'),
        infra_checks.check_every_registered_job_is_scheduled,
    ),
    "a queue removed": (
        "tasks.tf",
        lambda text: remove_block(text, r'^    "webhook-events" = \{'),
        infra_checks.check_every_queue_exists,
    ),
    "a secret set as a plain env var": (
        "functions.tf",
        lambda text: text.replace(
            'OIE_ENV                           = "prod"',
            'OIE_ENV = "prod"\nOIE_SENDGRID_API_KEY = "x"',
        ),
        infra_checks.check_secrets_are_mounted_never_plain,
    ),
    "an env var Settings does not read": (
        "functions.tf",
        lambda text: text.replace('OIE_ENV                           = "prod"', 'OIE_ENV = "prod"\nOIE_NO_SUCH = "x"'),
        infra_checks.check_plain_env_vars_are_settings,
    ),
    "the task handler made public": (
        "functions.tf",
        lambda text: text.replace('invoker       = "tasks"', 'invoker       = "public"'),
        infra_checks.check_private_functions_are_never_public,
    ),
    "the planning queue removed": (
        "tasks.tf",
        lambda text: remove_block(text, r'^    "campaign-planning" = \{'),
        infra_checks.check_every_queue_exists,
    ),
    "Vertex AI granted to another function": (
        "iam.tf",
        lambda text: text.replace(
            'project_roles    = ["roles/bigquery.jobUser", "roles/datastore.user"]',
            'project_roles    = ["roles/aiplatform.user", "roles/bigquery.jobUser", "roles/datastore.user"]',
            1,
        ),
        infra_checks.check_vertex_ai_is_granted_to_the_planner_only,
    ),
    "Vertex AI granted to the build account": (
        "iam.tf",
        lambda text: text.replace(
            '"roles/artifactregistry.writer", "roles/logging.logWriter"',
            '"roles/aiplatform.user", "roles/artifactregistry.writer", "roles/logging.logWriter"',
        ),
        infra_checks.check_vertex_ai_is_granted_to_the_planner_only,
    ),
    "the Vertex AI API not enabled": (
        "apis.tf",
        lambda text: text.replace('    "aiplatform.googleapis.com",\n', ""),
        infra_checks.check_vertex_ai_is_granted_to_the_planner_only,
    ),
    "go allowed to scale to zero": (
        "functions.tf",
        lambda text: text.replace("min_instances = 1", "min_instances = 0", 1),
        infra_checks.check_warm_functions_keep_an_instance,
    ),
}


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_check_fails_on_infra_with(mutation: str, infra_dir: Path, tmp_path: Path) -> None:
    filename, mutate, check = MUTATIONS[mutation]
    broken = broken_copy(infra_dir, tmp_path, filename, mutate)
    with pytest.raises(AssertionError):
        check(broken)
