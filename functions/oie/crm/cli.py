"""`oie crm …`: connect a tenant's HubSpot or Salesforce, see its state, sync now."""

from __future__ import annotations

import click

from oie.cli.output import OieGroup, emit, json_option


@click.group(cls=OieGroup)
def crm() -> None:
    """CRM sync (HubSpot, Salesforce): connect, status, sync."""


@crm.command("connect")
@click.argument("tenant_id")
@click.option("--provider", type=click.Choice(["hubspot", "salesforce"]), required=True)
@click.option(
    "--token",
    envvar="OIE_CRM_TOKEN",
    prompt=True,
    hide_input=True,
    help="HubSpot: the private app's access token. Salesforce: consumer_key:consumer_secret. "
    "Asked for when missing (or from OIE_CRM_TOKEN), so it stays out of the shell's history.",
)
@click.option("--salesforce-domain", default="", help="Salesforce: the org's My Domain, like acme.my.")
@click.option("--allow-create", is_flag=True, help="Create a contact for a lead the CRM does not know.")
@json_option
def crm_connect(tenant_id: str, provider: str, token: str, salesforce_domain: str, allow_create: bool) -> None:
    """Check the credentials, create the engine's fields in the CRM, keep the token as a secret."""
    from pydantic import ValidationError

    from oie.cli.context import app as connect
    from oie.crm.models import CrmConfig

    try:
        config = CrmConfig(provider=provider, salesforce_domain=salesforce_domain, allow_create=allow_create)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise click.BadParameter(exc.errors()[0]["msg"], param_hint="--salesforce-domain") from None
    status = connect().crm_connections.connect(tenant_id, config, token)
    emit(status.model_dump(mode="json"), summary=f"{tenant_id} is connected to {provider}")


@crm.command("status")
@click.argument("tenant_id")
@json_option
def crm_status(tenant_id: str) -> None:
    """Whether the tenant is connected, and how its latest sync went."""
    from oie.cli.context import app as connect

    emit(connect().crm_connections.status(tenant_id).model_dump(mode="json"))


@crm.command("lead")
@click.argument("tenant_id")
@click.argument("lead_id")
@json_option
def crm_lead(tenant_id: str, lead_id: str) -> None:
    """One lead's crmContactId, syncedToCRM, lastSyncedAt and last error."""
    from oie.cli.context import app as connect

    emit(connect().crm_connections.lead_sync_state(tenant_id, lead_id).model_dump(mode="json"))


@crm.command("sync")
@click.argument("tenant_id")
@click.option("--lead", "lead_ids", multiple=True, help="Only these leads (repeatable); default: every warm+ lead.")
@json_option
def crm_sync(tenant_id: str, lead_ids: tuple[str, ...]) -> None:
    """Write the tenant's leads to its CRM now (same values on a repeat; notes come with level changes)."""
    from dataclasses import asdict

    from oie.cli.context import app as connect

    run = connect().crm_sync.sync_now(tenant_id, list(lead_ids) or None)
    emit(asdict(run), summary=run.error or f"{run.synced + run.created} leads written to the CRM")


@crm.command("disconnect")
@click.argument("tenant_id")
@json_option
def crm_disconnect(tenant_id: str) -> None:
    """Stop syncing the tenant (what was written stays in the CRM)."""
    from oie.cli.context import app as connect

    connect().crm_connections.disconnect(tenant_id)
    emit({"tenant_id": tenant_id, "connected": False}, summary=f"{tenant_id} is no longer synced")
