"""`oie privacy …`: erasure requests.

Exit codes of `erase` (besides oie.cli.output's): 0 the person was erased; 3 the address
was never imported for the tenant, or was erased before (stray mentions are swept either
way); 1 bad input or an unknown tenant.
"""

from __future__ import annotations

import sys

import click

from oie.cli.output import OieGroup, emit, json_option

NOT_IMPORTED = 3


@click.group(cls=OieGroup)
def privacy() -> None:
    """Erasure requests."""


@privacy.command("erase")
@click.option("--tenant", "tenant_id", required=True)
@click.option("--email", required=True, help="The person to forget.")
@json_option
def erase(tenant_id: str, email: str) -> None:
    """Remove one person everywhere (GDPR erasure), and record it."""
    from oie.cli.context import app

    record = app().retention.erase(tenant_id, email)
    counts = {k: v for k, v in record["rows_deleted"].items() if v}
    summary = {
        "erased": f"erased lead {record['lead_id']} (request {record['request_id']})",
        "already_erased": f"already erased: no lead for this address in tenant {tenant_id}; swept again",
        "never_imported": f"never imported: no lead for this address in tenant {tenant_id}; stray mentions removed",
    }[record["outcome"]]
    emit(
        {"outcome": record["outcome"], "request_id": record["request_id"], "lead_id": record["lead_id"], **counts},
        summary=summary,
    )
    if record["outcome"] != "erased":
        sys.exit(NOT_IMPORTED)
