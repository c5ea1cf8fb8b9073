"""Code and infra agree: functions, jobs, queues, secrets, settings and who may call what."""

from __future__ import annotations

import infra_checks
from terraform_model import Infra


def test_every_entry_point_is_a_deployed_function_and_nothing_else_is(infra: Infra) -> None:
    infra_checks.check_every_entry_point_is_deployed(infra)


def test_every_function_runs_as_its_own_service_account(infra: Infra) -> None:
    infra_checks.check_every_function_has_an_identity_and_access(infra)


def test_visitor_facing_functions_keep_a_warm_instance(infra: Infra) -> None:
    infra_checks.check_warm_functions_keep_an_instance(infra)


def test_every_registered_job_is_scheduled_against_the_jobs_function_with_oidc(
    infra: Infra,
) -> None:
    infra_checks.check_every_registered_job_is_scheduled(infra)


def test_every_queue_in_the_code_exists_with_retries_and_rate_limits(infra: Infra) -> None:
    infra_checks.check_every_queue_exists(infra)


def test_every_secret_setting_is_mounted_and_never_plain_or_output(infra: Infra) -> None:
    infra_checks.check_secrets_are_mounted_never_plain(infra)


def test_every_plain_env_var_is_a_settings_field(infra: Infra) -> None:
    infra_checks.check_plain_env_vars_are_settings(infra)


def test_task_and_job_handlers_are_never_public(infra: Infra) -> None:
    infra_checks.check_private_functions_are_never_public(infra)


def test_only_the_planner_function_may_call_vertex_ai(infra: Infra) -> None:
    infra_checks.check_vertex_ai_is_granted_to_the_planner_only(infra)
