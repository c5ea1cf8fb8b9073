"""`oie campaign create`: import leads from a CSV and write their tracking links."""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from oie.cli.output import EXIT_OK, CommandError, OieGroup, emit, fail, json_option, note, wants_json
from oie.errors import OieError
from oie.links.csv_import import OUTPUT_COLUMNS

if TYPE_CHECKING:
    from oie.links.service import ImportedLead, ImportResult
    from oie.links.spool import LeadSpool

# Exit codes of `oie campaign create` (and 69 when the stack does not answer, as every command).
EXIT_ROWS_SKIPPED, EXIT_NOTHING_IMPORTED = 1, 2


@click.group(cls=OieGroup)
def campaign() -> None:
    """Campaigns and their tracking links."""


def _nothing_imported(message: str, field: str | None = None) -> CommandError:
    return CommandError(message, code="nothing_imported", field=field, exit_code=EXIT_NOTHING_IMPORTED)


def _read(csv_path: Path, work_dir: Path) -> LeadSpool:
    """Check every row into a spool on disk: memory stays flat whatever the file's size."""
    from oie.links.spool import LeadSpool

    try:
        with csv_path.open(newline="", encoding="utf-8-sig") as handle:
            return LeadSpool.read(handle, work_dir / "leads.sqlite")
    except (ValueError, UnicodeDecodeError, csv.Error, OSError) as exc:
        raise _nothing_imported(f"{csv_path}: {exc}", "file") from None


def _open_output(out_path: Path) -> tuple[IO[str], Path]:
    """A temporary file beside `out_path`, opened before anything is written elsewhere."""
    try:
        handle, name = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=".partial", dir=out_path.parent)
    except OSError as exc:
        raise _nothing_imported(f"cannot write {out_path}: {exc.strerror}", "out") from None
    return os.fdopen(handle, "w", newline="", encoding="utf-8"), Path(name)


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
@json_option
def campaign_create(tenant_id: str, campaign_name: str, csv_path: Path, landing: str, out_path: Path) -> None:
    """Import leads from a CSV and write their tracking links.

    The whole file is checked before anything is written. Exit code 0: every row imported;
    1: some rows were skipped (listed); 2: nothing imported; 69: the stack does not answer.
    """
    with tempfile.TemporaryDirectory(prefix="oie-import-") as work_dir:
        spool = _read(csv_path, Path(work_dir))
        try:
            result = _import(spool, tenant_id, campaign_name, csv_path, landing, out_path)
        finally:
            spool.close()
    parsed = spool.summary
    skipped = [error.model_dump() for error in parsed.errors]
    summary: dict[str, Any] = {
        "tenant_id": tenant_id,
        "campaign_id": result.campaign.campaign_id,
        "imported": result.count,
        "rows_read": parsed.rows_read,
        "skipped": skipped,
        "duplicates_merged": parsed.duplicates_merged,
        "id_collisions_resolved": result.collisions,
        "out": str(out_path),
    }
    emit(
        summary if wants_json() else {},
        summary=f"campaign {result.campaign.campaign_id}: {result.count} leads imported, "
        f"{len(parsed.errors)} rows skipped, {parsed.duplicates_merged} duplicate rows merged, "
        f"{result.collisions} id collisions resolved -> {out_path}",
    )
    sys.exit(EXIT_ROWS_SKIPPED if parsed.errors else EXIT_OK)


def _import(
    spool: LeadSpool, tenant_id: str, campaign_name: str, csv_path: Path, landing: str, out_path: Path
) -> ImportResult:
    """Plan (reads only), then write chunk by chunk, each chunk's rows straight into the links file."""
    from oie.cli.context import app as connect

    parsed = spool.summary
    if not wants_json():
        for error in parsed.errors:
            note(f"skipped line {error.line}: {error.field}: {error.reason}")
    if not len(spool):
        raise _nothing_imported(f"{csv_path}: no lead to import ({len(parsed.errors)} rows skipped)", "file")
    app = connect()
    tenant_doc = app.tenants.get(tenant_id)
    go_base = (
        f"https://{tenant_doc.go_hosts[0]}" if tenant_doc and tenant_doc.go_hosts else str(app.settings.go_base_url)
    )
    try:
        plan = app.importer.plan(tenant_id, campaign_name, landing, spool, go_base)
    except OieError as exc:
        fail(exc, exit_code=EXIT_NOTHING_IMPORTED)  # nothing was written (a backend that is down: 69)
    output, partial = _open_output(out_path)
    try:
        writer = csv.DictWriter(output, fieldnames=[*parsed.columns, *OUTPUT_COLUMNS])
        writer.writeheader()
        with click.progressbar(length=len(spool), label="importing leads", file=sys.stderr) as bar:
            result = app.importer.write(plan, progress=bar.update, out=lambda chunk: _write_links(writer, chunk))
        output.close()
        partial.replace(out_path)
    except OieError as exc:
        fail(exc, hint="re-run the same command once it answers: an import is idempotent")
    finally:
        if not output.closed:
            output.close()
        partial.unlink(missing_ok=True)
    return result


def _write_links(writer: csv.DictWriter[str], imported: list[ImportedLead]) -> None:
    """One row per lead: its columns (merged, email normalised), then tracking_id and tracking_url."""
    for item in imported:
        writer.writerow({**item.row, "tracking_id": item.tracking_id, "tracking_url": item.tracking_url})
