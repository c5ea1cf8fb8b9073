"""The checks that code and infra agree; each raises AssertionError naming what drifted."""

from __future__ import annotations

import re

from terraform_model import (
    REGISTRY_PATH,
    REPO_ROOT,
    Infra,
    dynamic_block,
    entry_points,
    for_each_keys,
    only,
    plain_env_names,
    queues,
    registered_jobs,
    secret_env_names,
    settings_env_names,
)

FUNCTION = ("google_cloudfunctions2_function", "function")
SCHEDULER_JOB = ("google_cloud_scheduler_job", "job")
TASKS_QUEUE = ("google_cloud_tasks_queue", "queue")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
# The functions a visitor waits on: a cold start there is a slow redirect or a lost event.
WARM_FUNCTIONS = ("go", "track", "personalize")


def check_every_entry_point_is_deployed(infra: Infra) -> None:
    functions = infra.resources.get(FUNCTION[0], {})
    assert list(functions) == [FUNCTION[1]], f"expected one {FUNCTION[0]} resource (for_each), got {list(functions)}"
    body = functions[FUNCTION[1]]
    assert for_each_keys(body["for_each"]) == "local.functions"
    build = only(body["build_config"])
    assert build["entry_point"] == "${each.key}", "each function must run the entry point named by its key"
    assert build["runtime"] == "python311"
    # Cloud Tasks targets `<OIE_FUNCTIONS_BASE_URL>/<entry point>`, so the name is the entry point.
    assert body["name"] == "${each.key}"
    declared = set(infra.locals["functions"])
    missing, extra = entry_points() - declared, declared - entry_points()
    assert not missing, f"entry points in functions/main.py with no function in infra: {sorted(missing)}"
    assert not extra, f"functions in infra with no entry point in functions/main.py: {sorted(extra)}"


def check_every_function_has_an_identity_and_access(infra: Infra) -> None:
    access, functions = set(infra.locals["function_access"]), set(infra.locals["functions"])
    assert access == functions, f"iam.tf function_access {sorted(access)} != functions {sorted(functions)}"
    sa = infra.resource("google_service_account", "function")
    assert for_each_keys(sa["for_each"]) == "local.functions"
    service = only(infra.resource(*FUNCTION)["service_config"])
    assert service["service_account_email"] == "${google_service_account.function[each.key].email}"


def check_warm_functions_keep_an_instance(infra: Infra) -> None:
    functions = infra.locals["functions"]
    for name in WARM_FUNCTIONS:
        assert name in functions, f"{name} is not deployed"
        assert functions[name]["min_instances"] >= 1, f"{name} must keep min_instances >= 1"
    service = only(infra.resource(*FUNCTION)["service_config"])
    assert service["min_instance_count"] == "${local.function_scaling[each.key].min_instances}"
    # Overrides may only raise the minimum.
    assert "max(fn.min_instances" in infra.locals["function_scaling"]


def check_every_registered_job_is_scheduled(infra: Infra) -> None:
    jobs = registered_jobs()
    assert jobs, "the job registry is empty"
    registry_read = infra.locals["job_registry"]
    match = re.fullmatch(r'\$\{yamldecode\(file\("\$\{path\.module\}/([^"]+)"\)\)\}', registry_read)
    assert match, f"Terraform must read the job registry with yamldecode(file(...)), got {registry_read}"
    read_path = (REPO_ROOT / "infra" / match.group(1)).resolve()
    assert read_path == REGISTRY_PATH.resolve(), f"Terraform reads {read_path}, the registry is {REGISTRY_PATH}"
    assert re.search(
        r"for job in local\.job_registry\.jobs\s*:\s*job\.name\s*=>\s*job",
        infra.locals["scheduled_jobs"],
    )

    scheduler = infra.resources.get(SCHEDULER_JOB[0], {}).get(SCHEDULER_JOB[1])
    assert scheduler is not None, "no google_cloud_scheduler_job.job: registered jobs would never run"
    assert for_each_keys(scheduler["for_each"]) == "local.scheduled_jobs"
    # Every registry field the resource reads must be present in every job.
    for attribute in set(re.findall(r"each\.value\.(\w+)", str(scheduler))):
        lacking = [name for name, job in jobs.items() if attribute not in job]
        assert not lacking, f"jobs {lacking} lack `{attribute}`, which scheduler.tf reads"

    target = only(scheduler["http_target"])
    assert target["http_method"] == "POST"
    assert '{"job": "${each.key}"}' in target["body"], 'each job must post {"job": <name>}'
    jobs_fn = 'google_cloudfunctions2_function.function["jobs"]'
    assert "jobs" in entry_points(), "the scheduler targets the jobs entry point, which main.py lacks"
    assert target["uri"] == "${" + jobs_fn + ".url}"
    oidc = only(target["oidc_token"])
    assert oidc["service_account_email"] == "${google_service_account.scheduler.email}"
    assert oidc["audience"] == target["uri"]
    assert infra.locals["functions"]["jobs"]["invoker"] == "scheduler"


def check_every_queue_exists(infra: Infra) -> None:
    code_queues = queues()
    declared = {name: spec["target"] for name, spec in infra.locals["queues"].items()}
    assert declared == code_queues, f"queues in infra {declared} != QUEUES in functions/oie/queues.py {code_queues}"
    queue = infra.resource(*TASKS_QUEUE)
    assert for_each_keys(queue["for_each"]) == "local.queues"
    assert queue["name"] == "${each.key}", "the code enqueues by the exact QUEUES name"
    assert queue.get("retry_config") and queue.get("rate_limits")
    for name, target in code_queues.items():
        assert target in infra.locals["functions"], f"queue {name} targets {target}, which is not deployed"
        assert infra.locals["functions"][target]["invoker"] == "tasks", f"{target} must be invokable by Cloud Tasks"


def check_secrets_are_mounted_never_plain(infra: Infra) -> None:
    expected = secret_env_names()
    declared = set(infra.locals["secrets"])
    assert declared == expected, f"secrets in infra {sorted(declared)} != secret_setting_names() {sorted(expected)}"
    secret = infra.resource("google_secret_manager_secret", "setting")
    assert for_each_keys(secret["for_each"]) == "local.secrets"
    mount = dynamic_block(only(infra.resource(*FUNCTION)["service_config"]), "secret_environment_variables")
    assert mount is not None, "functions mount no secret_environment_variables"
    assert for_each_keys(mount["for_each"]) == "local.secrets", "every function must mount every secret"
    assert only(mount["content"])["key"] == "${secret_environment_variables.key}"

    leaked = plain_env_names(infra) & expected
    assert not leaked, f"secrets set as plain environment variables: {sorted(leaked)}"
    assert "google_secret_manager_secret_version" not in infra.resources, "secret values must never be in Terraform"
    for name, output in infra.outputs.items():
        text = str(output["value"])
        assert "secret" not in text.lower() and not (set(re.findall(r"OIE_\w+", text)) & expected), (
            f"output {name} exposes a secret"
        )


def check_plain_env_vars_are_settings(infra: Infra) -> None:
    unknown = plain_env_names(infra) - settings_env_names()
    assert not unknown, f"env vars set in Terraform that Settings does not read: {sorted(unknown)}"
    env = infra.locals["function_env"]
    for name, value in {
        "OIE_ENV": "prod",
        "OIE_WAREHOUSE": "bigquery",
        "OIE_TASKS": "cloud",
        "OIE_MAILER": "sendgrid",
    }.items():
        assert env.get(name) == value, f"{name} must be {value} in the cloud"


def check_private_functions_are_never_public(infra: Infra) -> None:
    functions = infra.locals["functions"]
    private = set(queues().values()) | {"jobs"}
    for name in private:
        assert functions[name]["invoker"] != "public", f"{name} must not be public"
    for rtype, named in infra.resources.items():
        for rname, body in named.items():
            members = str(body.get("member", "")) + str(body.get("members", ""))
            if not any(member in members for member in PUBLIC_MEMBERS):
                continue
            if rtype == "google_storage_bucket_iam_member" and rname == "pixel_public_read":
                continue
            assert (rtype, rname) == ("google_cloud_run_v2_service_iam_member", "public_invoker"), (
                f"{rtype}.{rname} grants public access"
            )
            assert re.search(r'if fn\.invoker == "public"\}', body["for_each"]), (
                "the public invoker binding must cover only functions whose invoker is public"
            )
    private_binding = infra.resource("google_cloud_run_v2_service_iam_member", "private_invoker")
    assert re.search(r'if fn\.invoker != "public"\}', private_binding["for_each"])
    assert private_binding["member"] == "${local.private_invokers[each.value.invoker]}"
    assert not any(member in str(infra.locals["private_invokers"]) for member in PUBLIC_MEMBERS)


# Only the planner calls Gemini: a Vertex AI role anywhere else would let another function spend tokens.
PLANNER_FUNCTION = "campaign_plan"
VERTEX_ROLE = "roles/aiplatform.user"


def check_vertex_ai_is_granted_to_the_planner_only(infra: Infra) -> None:
    assert "aiplatform.googleapis.com" in infra.locals["services"], "the Vertex AI API is not enabled (apis.tf)"
    granted = {
        name: [role for role in access["project_roles"] if role.startswith("roles/aiplatform")]
        for name, access in infra.locals["function_access"].items()
    }
    assert granted.get(PLANNER_FUNCTION) == [VERTEX_ROLE], f"{PLANNER_FUNCTION} must hold {VERTEX_ROLE} (iam.tf)"
    others = sorted(name for name, roles in granted.items() if roles and name != PLANNER_FUNCTION)
    assert not others, f"Vertex AI roles granted to functions other than {PLANNER_FUNCTION}: {others}"
    # Any other binding (a project role, a service account of its own) naming a Vertex AI role.
    for rtype, named in infra.resources.items():
        for rname, body in named.items():
            assert "roles/aiplatform" not in str(body), f"{rtype}.{rname} grants a Vertex AI role"
    for name, value in infra.locals.items():
        if name != "function_access":
            assert "roles/aiplatform" not in str(value), f"local.{name} names a Vertex AI role"
