"""`oie outcomes …`: recompute win rates."""

from __future__ import annotations

from datetime import datetime

import click

from oie.cli.output import OieGroup, emit, json_option


@click.group(cls=OieGroup)
def outcomes() -> None:
    """Outcomes and win rates."""


@outcomes.command("backfill-win-rates")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]))
@json_option
def outcomes_backfill(first: datetime, last: datetime) -> None:
    """Recompute the win-rate aggregates of every ISO week in a range."""
    from oie.cli.context import app as connect
    from oie.outcomes.jobs import backfill

    app = connect(firestore=False)
    weeks = [
        {"week": week, "rows": rows}
        for week, rows in backfill(app.warehouse, first.date(), last.date(), app.clock.now())
    ]
    emit(weeks, summary=f"{len(weeks)} weeks recomputed")
