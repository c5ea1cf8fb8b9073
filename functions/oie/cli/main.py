"""`oie`: the command line. This module only assembles the groups; each capability keeps its own.

Every command answers with a table (`--json` for JSON) and the exit codes of
oie.cli.output; locally it finds the running stack by itself (oie.cli.context).
"""

from __future__ import annotations

import click

from oie.campaigns.cli import campaigns
from oie.cli.context import PORT_KEY
from oie.cli.output import OieGroup
from oie.configuration.cli import GROUPS as SETTINGS_GROUPS
from oie.crm.cli import crm
from oie.devstack.cli import dev
from oie.jobs.cli import jobs
from oie.links.cli import campaign
from oie.outcomes.cli import outcomes
from oie.planner.cli import planner
from oie.retention.cli import privacy
from oie.tenants.cli import tenant
from oie.warehouse.cli import warehouse
from oie.webhooks.cli import webhooks


def _set_port(ctx: click.Context, param: click.Parameter, value: int | None) -> None:
    if value is not None:
        ctx.meta[PORT_KEY] = value


@click.group(
    cls=OieGroup,
    epilog="Every command answers with a table, or JSON with --json. Exit codes: 0 done, 1 failed, "
    "2 wrong usage, 69 the local stack (make run) or a backend is not reachable.",
)
@click.option(
    "--port",
    type=int,
    envvar="OIE_STACK_PORT",
    expose_value=False,
    callback=_set_port,
    help="Talk to the local stack on this gateway port (when several run; default: the one on 8080, else the newest).",
)
def cli() -> None:
    """Outbound Intent Engine."""


# Each capability's group (`privacy` lives with retention).
GROUPS = (tenant, campaign, campaigns, planner, warehouse, jobs, outcomes, privacy, webhooks, crm, dev)
for group in (*GROUPS, *SETTINGS_GROUPS):
    cli.add_command(group)
