"""`oie`: the command line for tenants, campaigns, the warehouse, jobs and the local stack."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from oie.errors import OieError

if TYPE_CHECKING:
    from oie.links.service import ImportedLead

# Exit codes of `oie campaign create`.
EXIT_OK, EXIT_ROWS_SKIPPED, EXIT_FAILED = 0, 1, 2


def _fail(error: OieError) -> None:
    where = f" [{error.field}]" if error.field else ""
    raise click.ClickException(f"{error.message}{where}")


@click.group()
def cli() -> None:
    """Outbound Intent Engine."""


@cli.group()
def tenant() -> None:
    """Tenants."""


@tenant.command("create")
@click.option("--id", "tenant_id", required=True, help="Short id: lower-case letters, digits, dashes.")
@click.option("--name", required=True)
@click.option(
    "--redirect-domain",
    "redirect_domains",
    multiple=True,
    required=True,
    help="A domain /go may send people to (its subdomains too). Repeatable.",
)
@click.option("--landing", "default_landing_url", required=True, help="Default landing page URL.")
@click.option(
    "--origin",
    "allowed_origins",
    multiple=True,
    help="Website origin the pixel runs on. Repeatable.",
)
@click.option("--go-host", "go_hosts", multiple=True, help="Host serving this tenant's /go links. Repeatable.")
@click.option("--secret-ref", "id_secret_ref", default="", help="sm://projects/P/secrets/S/versions/V")
@click.option("--ip-mode", type=click.Choice(["truncate", "hash", "full", "none"]), default="truncate")
@click.option("--replace", is_flag=True, help="Update an existing tenant (its id secret is kept).")
def tenant_create(replace: bool, **fields: object) -> None:
    """Create a tenant."""
    from oie.tenants.service import create_tenant
    from oie.wiring import container

    app = container()
    try:
        created = create_tenant(
            app.tenants,
            dict(fields),
            allow_local_secret=app.settings.env != "prod",
            replace=replace,
        )
    except OieError as exc:
        _fail(exc)
    click.echo(f"tenant {created.tenant_id} saved")


@cli.group()
def campaign() -> None:
    """Campaigns and their tracking links."""


@campaign.command("create")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--campaign", "campaign_name", required=True, help='Campaign name, e.g. "Q1 Enterprise".')
@click.option(
    "--file",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
)
@click.option("--landing", required=True, help="Landing page the links lead to.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
def campaign_create(tenant_id: str, campaign_name: str, csv_path: Path, landing: str, out_path: Path) -> None:
    """Import leads from a CSV and write their tracking links.

    Exit code 0: every row imported; 1: some rows were skipped (listed); 2: nothing imported.
    """
    from oie.links.csv_import import parse_leads
    from oie.wiring import container

    app = container()
    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            parsed = parse_leads(handle)
    except (ValueError, UnicodeDecodeError) as exc:
        click.echo(f"error: {csv_path}: {exc}", err=True)
        sys.exit(EXIT_FAILED)
    for error in parsed.errors:
        click.echo(f"skipped line {error.line}: {error.field}: {error.reason}", err=True)
    tenant_doc = app.tenants.get(tenant_id)
    go_base = (
        f"https://{tenant_doc.go_hosts[0]}" if tenant_doc and tenant_doc.go_hosts else str(app.settings.go_base_url)
    )
    try:
        with click.progressbar(length=len(parsed.leads), label="importing leads", file=sys.stderr) as bar:
            result = app.importer.run(tenant_id, campaign_name, landing, parsed, go_base, progress=bar.update)
    except OieError as exc:
        _fail(exc)
    _write_links(out_path, parsed.columns, parsed.rows_by_email, result.imported)
    click.echo(
        f"campaign {result.campaign.campaign_id}: {len(result.imported)} leads, "
        f"{len(parsed.errors)} rows skipped, {result.collisions} id collisions resolved -> {out_path}"
    )
    sys.exit(EXIT_ROWS_SKIPPED if parsed.errors else EXIT_OK)


def _write_links(
    path: Path, columns: list[str], rows_by_email: dict[str, list[dict[str, str]]], imported: list[ImportedLead]
) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*columns, "tracking_id", "tracking_url"])
        writer.writeheader()
        for item in imported:
            first_row = rows_by_email[item.lead.email][0]
            writer.writerow({**first_row, "tracking_id": item.tracking_id, "tracking_url": item.tracking_url})


@cli.group()
def warehouse() -> None:
    """The warehouse (BigQuery; DuckDB locally)."""


@warehouse.command("migrate")
def warehouse_migrate() -> None:
    """Create or update tables and views from sql/schema."""
    from oie.wiring import container

    for line in container().warehouse.migrate():
        click.echo(line)


@warehouse.command("looker-link")
@click.option("--project", help="BigQuery project; default OIE_GCP_PROJECT.")
@click.option("--dataset", help="BigQuery dataset; default OIE_BQ_DATASET.")
@click.option("--template", "template_report_id", help="Looker Studio report id to copy.")
@click.option("--view", "views", multiple=True, help="Only this view (repeatable); default all five.")
def warehouse_looker_link(
    project: str | None, dataset: str | None, template_report_id: str | None, views: tuple[str, ...]
) -> None:
    """Print a Looker Studio link with one BigQuery data source per analyst view."""
    from oie.settings import get_settings
    from oie.warehouse.looker import DEFAULT_VIEWS, report_link

    settings = get_settings()
    try:
        link = report_link(
            project or settings.gcp_project, dataset or settings.bq_dataset, views or DEFAULT_VIEWS, template_report_id
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(link)


@cli.group()
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("run")
@click.argument("name")
@click.option("--remote", is_flag=True, help="Ask Cloud Scheduler to run the deployed job now instead.")
@click.option("--prefix", default="oie", show_default=True, help="The deployment's Terraform `prefix` (with --remote).")
def jobs_run(name: str, remote: bool, prefix: str) -> None:
    """Run one registered job now: here against the configured backends, or in the cloud."""
    from oie.jobs.registry import load_registry

    if name not in load_registry():
        raise click.UsageError(f"no job {name!r}; registered: {', '.join(load_registry())}")
    if remote:
        from oie.jobs.remote import run_remote
        from oie.settings import get_settings

        settings = get_settings()
        click.echo(f"asked Cloud Scheduler to run {run_remote(settings.gcp_project, settings.region, prefix, name)}")
        return
    from oie.jobs.runner import run_job
    from oie.wiring import container

    try:
        click.echo(json.dumps(run_job(name, container()), default=str, indent=2))
    except OieError as exc:
        _fail(exc)


@jobs.command("status")
@click.option("--limit", default=20, show_default=True)
def jobs_status(limit: int) -> None:
    """The latest job runs from job_runs: status, rows, watermark, error."""
    from oie.wiring import container

    for run in container().warehouse.query("recent_job_runs", {"limit_rows": limit}):
        click.echo(
            f"{run['started_at']:%Y-%m-%d %H:%M:%S} {run['job']:22s} {run['status']:7s} "
            f"written={run['rows_written']} scanned={run['rows_scanned']} {run['error'] or ''}"
        )


@tenant.command("api-key")
@click.option("--tenant", "tenant_id", required=True)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["outcomes:read", "outcomes:write", "admin"]),
    help="Repeatable.",
)
@click.option("--label", default="", help="Who or what uses the key (shown as recorded_by).")
def tenant_api_key(tenant_id: str, scopes: tuple[str, ...], label: str) -> None:
    """Create an API key (the admin scope also logs into the admin pages); shown once, stored hashed."""
    from oie.outcomes.auth import create_key
    from oie.wiring import container

    app = container()
    if app.tenants.get(tenant_id) is None:
        raise click.ClickException(f"no tenant {tenant_id!r} [tenant]")
    key = create_key(app.api_keys, tenant_id, list(scopes), label or f"{tenant_id} key", app.clock.now())
    click.echo(key)


@cli.group()
def outcomes() -> None:
    """Outcomes and win rates."""


@outcomes.command("backfill-win-rates")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
def outcomes_backfill(first: datetime, last: datetime) -> None:
    """Recompute the win-rate aggregates of every ISO week in a range."""
    from oie.outcomes.jobs import backfill
    from oie.wiring import container

    app = container()
    for week, rows in backfill(app.warehouse, first.date(), last.date(), app.clock.now()):
        click.echo(f"week of {week}: {rows} rows")


@cli.group()
def privacy() -> None:
    """Erasure requests."""


@privacy.command("erase")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--email", required=True, help="The person to forget.")
def privacy_erase(tenant_id: str, email: str) -> None:
    """Remove one person from Firestore and the warehouse (GDPR erasure), and record it."""
    from oie.wiring import container

    try:
        record = container().retention.erase(tenant_id, email)
    except OieError as exc:
        _fail(exc)
    click.echo(f"erased lead {record['lead_id']} (request {record['request_id']}): {record['rows_deleted']}")


@cli.group()
def dev() -> None:
    """The local stack."""


@dev.command("run")
@click.option("--port", default=8080, show_default=True)
@click.option("--data", "data_dir", default=".oie-data", show_default=True, type=click.Path(path_type=Path))
@click.option("--firestore-port", default=8681, show_default=True)
def dev_run(port: int, data_dir: Path, firestore_port: int) -> None:
    """Start the whole engine locally; Ctrl-C stops everything it started."""
    from oie.devstack.stack import run_stack

    sys.exit(run_stack(port=port, data_dir=data_dir, firestore_port=firestore_port))


@dev.command("requirements")
def dev_requirements() -> None:
    """Write functions/requirements.txt from pyproject.toml."""
    from oie.devstack.requirements import REPO, render_requirements

    (REPO / "functions" / "requirements.txt").write_text(render_requirements())


def _register_capability_commands() -> None:
    """Command groups that live with their capability (imported when the CLI loads)."""
    from oie.campaigns.cli import campaigns as campaigns_group
    from oie.webhooks.cli import webhooks as webhooks_group

    cli.add_command(campaigns_group)
    cli.add_command(webhooks_group)


_register_capability_commands()
