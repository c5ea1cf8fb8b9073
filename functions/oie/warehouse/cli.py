"""`oie warehouse …`: apply the schema, and link Looker Studio to the analyst views."""

from __future__ import annotations

import click

from oie.cli.output import OieGroup, emit, json_option


@click.group(cls=OieGroup)
def warehouse() -> None:
    """The warehouse (BigQuery; DuckDB locally)."""


@warehouse.command("migrate")
@json_option
def warehouse_migrate() -> None:
    """Create or update tables and views from sql/schema."""
    from oie.cli.context import app as connect

    applied = connect(firestore=False).warehouse.migrate()
    emit([{"statement": line} for line in applied], summary=f"{len(applied)} statements applied")


@warehouse.command("looker-link")
@click.option("--project", help="BigQuery project; default OIE_GCP_PROJECT.")
@click.option("--dataset", help="BigQuery dataset; default OIE_BQ_DATASET.")
@click.option("--template", "template_report_id", help="Looker Studio report id to copy.")
@click.option("--view", "views", multiple=True, help="Only this view (repeatable); default all five.")
@json_option
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
    emit({"link": link}, columns=(), summary=link)
