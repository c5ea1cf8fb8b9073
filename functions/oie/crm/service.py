"""Connecting a tenant's CRM and reading its state: what the console and `oie crm` call."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from oie.crm import mapping
from oie.crm.models import CrmConfig, CrmStatus, LeadSyncState, SalesforceCredentials
from oie.crm.ports import CrmAuthFailed, CrmClients, CrmError, CrmRateLimited, CrmStore, CrmUnavailable
from oie.crm.secret_store import TokenStore
from oie.errors import BackendUnavailable, InputError, NotFound
from oie.ports import TenantStore


@dataclass
class CrmConnections:
    tenants: TenantStore
    store: CrmStore
    tokens: TokenStore
    clients: CrmClients

    def connect(self, tenant_id: str, config: CrmConfig, token: str) -> CrmStatus:
        """Check the token against the CRM (creating the engine's fields), keep it as a secret, save the config."""
        if self.tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        token = token.strip()
        if config.provider == "salesforce":
            try:
                SalesforceCredentials.parse(token)
            except ValueError as exc:
                raise InputError(str(exc), field="token") from None
        elif len(token) < 8:
            raise InputError("a HubSpot private app access token is needed", field="token")
        written = config.written_fields()
        try:
            # The first use: the property group and fields are made now, and a bad token shows at once.
            self.clients(config, token.encode()).ensure_schema(mapping.fields_for(written))
        except CrmAuthFailed as exc:
            raise InputError(f"the CRM refused the credentials: {exc}", field="token") from None
        except (CrmRateLimited, CrmUnavailable) as exc:
            raise BackendUnavailable(f"the CRM did not answer: {exc}; try again shortly") from None
        except CrmError as exc:
            raise InputError(f"the CRM refused to create the engine's fields: {exc}", field="config") from None
        ref = self.tokens.store(tenant_id, token.encode())
        stored = config.model_copy(update={"secret_ref": ref})
        self.store.put_config(tenant_id, stored)
        self.store.mark_schema(tenant_id, written)
        return self.status(tenant_id)

    def configure(
        self, tenant_id: str, *, allow_create: bool, read_outcomes: bool, deal_stages: dict[str, str]
    ) -> CrmStatus:
        """Change a connection's options (no token needed: the CRM and its credentials stay)."""
        config = self.store.get_config(tenant_id)
        if config is None:
            raise NotFound(f"tenant {tenant_id!r} has no CRM connected", field="tenant")
        try:
            wanted = CrmConfig.model_validate(
                {
                    **config.model_dump(),
                    "allow_create": allow_create,
                    "read_outcomes": read_outcomes,
                    "deal_stages": deal_stages,
                }
            )
        except ValidationError as exc:
            raise InputError(str(exc.errors()[0]["msg"]).removeprefix("Value error, "), field="deal_stages") from None
        self.store.update_config(tenant_id, wanted)
        return self.status(tenant_id)

    def disconnect(self, tenant_id: str) -> None:
        """Stop syncing (the secret stays in Secret Manager until ops destroy its versions)."""
        self.store.delete_config(tenant_id)

    def status(self, tenant_id: str) -> CrmStatus:
        """Whether and how the tenant is connected, and how its latest sync went."""
        config = self.store.get_config(tenant_id)
        if config is None:
            return CrmStatus(connected=False)
        last_at, last_error = self.store.run_status(tenant_id)
        read_at, read_count, read_error = self.store.readback_status(tenant_id)
        return CrmStatus(
            connected=True,
            provider=config.provider,
            allow_create=config.allow_create,
            salesforce_domain=config.salesforce_domain,
            schema_ready=set(config.written_fields()) <= set(self.store.schema_fields(tenant_id)),
            last_sync_at=last_at,
            last_error=last_error,
            read_outcomes=config.read_outcomes,
            deal_stages=config.stage_outcomes(),
            last_readback_at=read_at,
            last_readback_recorded=read_count,
            last_readback_error=read_error,
        )

    def lead_sync_state(self, tenant_id: str, lead_id: str) -> LeadSyncState:
        """crmContactId, syncedToCRM, lastSyncedAt and the last error of one lead (the lead page)."""
        return self.store.lead_state(tenant_id, lead_id)
