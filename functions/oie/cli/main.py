"""`oie`: the command line for tenants, campaigns, the warehouse, jobs and the local stack."""

from __future__ import annotations

import csv
import sys
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


@cli.group()
def jobs() -> None:
    """Scheduled jobs."""


@jobs.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one registered job now against the configured backends."""
    from oie.jobs.runner import run_job
    from oie.wiring import container

    try:
        click.echo(run_job(name, container()))
    except OieError as exc:
        _fail(exc)


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
