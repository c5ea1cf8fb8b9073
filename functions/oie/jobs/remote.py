"""`oie jobs run NAME --remote`: ask Cloud Scheduler to run a deployed job now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from oie.errors import BackendUnavailable, Forbidden, NotFound, Unauthenticated

if TYPE_CHECKING:
    from google.cloud import scheduler_v1

# The generated default for RunJob is 600 s: a command should say "unreachable" long before that.
RUN_JOB_SECONDS = 30.0


def scheduler_job_name(project: str, region: str, prefix: str, job: str) -> str:
    """The Cloud Scheduler job Terraform creates for a registry job (infra/scheduler.tf)."""
    return f"projects/{project}/locations/{region}/jobs/{prefix}-{job.replace('_', '-')}"


def run_remote(
    project: str, region: str, prefix: str, job: str, client: scheduler_v1.CloudSchedulerClient | None = None
) -> str:
    """Trigger the deployed job at once (Cloud Scheduler's RunJob); return its resource name."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as auth_errors
    from google.cloud import scheduler_v1

    name = scheduler_job_name(project, region, prefix, job)
    try:
        (client or scheduler_v1.CloudSchedulerClient()).run_job(name=name, timeout=RUN_JOB_SECONDS)
    except auth_errors.DefaultCredentialsError as exc:
        raise Unauthenticated(f"no Google credentials to call Cloud Scheduler ({exc})") from exc
    except gexc.NotFound as exc:
        raise NotFound(f"Cloud Scheduler has no job {name}: check --prefix and OIE_REGION") from exc
    except (gexc.PermissionDenied, gexc.Unauthenticated) as exc:
        raise Forbidden(f"Cloud Scheduler refused to run {name} ({exc.message})") from exc
    except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.TooManyRequests) as exc:
        raise BackendUnavailable(f"Cloud Scheduler did not run {name} ({exc.message}); try again shortly") from exc
    return name
