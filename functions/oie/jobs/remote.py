"""`oie jobs run NAME --remote`: ask Cloud Scheduler to run a deployed job now."""

from __future__ import annotations


def scheduler_job_name(project: str, region: str, prefix: str, job: str) -> str:
    """The Cloud Scheduler job Terraform creates for a registry job (infra/scheduler.tf)."""
    return f"projects/{project}/locations/{region}/jobs/{prefix}-{job.replace('_', '-')}"


def run_remote(project: str, region: str, prefix: str, job: str) -> str:
    """Trigger the deployed job at once (Cloud Scheduler's RunJob); return its resource name."""
    from google.cloud import scheduler_v1

    name = scheduler_job_name(project, region, prefix, job)
    scheduler_v1.CloudSchedulerClient().run_job(name=name)
    return name
