"""`oie jobs …`: run a registered job now, and see the latest runs."""

from __future__ import annotations

import click

from oie.cli.output import OieGroup, emit, json_option


@click.group(cls=OieGroup)
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("run")
@click.argument("name")
@click.option("--remote", is_flag=True, help="Ask Cloud Scheduler to run the deployed job now instead.")
@click.option("--prefix", default="oie", show_default=True, help="The deployment's Terraform `prefix` (with --remote).")
@json_option
def jobs_run(name: str, remote: bool, prefix: str) -> None:
    """Run one registered job now: here against the configured backends, or in the cloud."""
    from oie.jobs.registry import load_registry

    if name not in load_registry():
        raise click.UsageError(f"no job {name!r}; registered: {', '.join(load_registry())}")
    if remote:
        from oie.jobs.remote import run_remote
        from oie.settings import get_settings

        settings = get_settings()
        scheduler_job = run_remote(settings.gcp_project, settings.region, prefix, name)
        emit({"job": name, "scheduler_job": scheduler_job}, summary=f"asked Cloud Scheduler to run {scheduler_job}")
        return
    from oie.cli.context import app as connect
    from oie.jobs.runner import run_job

    emit(run_job(name, connect()), summary=f"job {name} done")


@jobs.command("status")
@click.option("--limit", default=20, show_default=True)
@json_option
def jobs_status(limit: int) -> None:
    """The latest job runs from job_runs: status, rows, watermark, error."""
    from oie.cli.context import app as connect

    runs = connect(firestore=False).warehouse.query("recent_job_runs", {"limit_rows": limit})
    emit(
        runs,
        columns=("started_at", "job", "status", "rows_written", "rows_scanned", "error"),
        summary=None if runs else "no job runs yet",
    )
