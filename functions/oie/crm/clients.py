"""Builds a tenant's CRM client from its config and resolved credentials (wiring hands this to the services)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from oie.crm.models import CrmConfig, SalesforceCredentials
from oie.crm.ports import CrmAuthFailed, CrmClient

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def check_base(url: str, setting: str) -> str:
    """A CRM base URL: https://, or http:// to this machine only (the local CRM servers)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        return url.rstrip("/")
    raise ValueError(f"{setting} must be an https:// URL (http:// only to this machine)")


@dataclass(frozen=True)
class CrmClientFactory:
    hubspot_host: str = "https://api.hubapi.com"
    # Empty: Salesforce's own hosts. Set: every Salesforce request goes to this server.
    salesforce_base_url: str = ""

    def __post_init__(self) -> None:
        check_base(self.hubspot_host, "OIE_CRM_HUBSPOT_HOST")
        if self.salesforce_base_url:
            check_base(self.salesforce_base_url, "OIE_CRM_SALESFORCE_BASE_URL")

    def __call__(self, config: CrmConfig, credentials: bytes) -> CrmClient:
        token = credentials.decode("utf-8", "replace").strip()
        if config.provider == "hubspot":
            from oie.crm.hubspot import HubSpotCrm

            return HubSpotCrm(token, host=self.hubspot_host)
        from oie.crm.salesforce import SalesforceCrm

        try:
            parsed = SalesforceCredentials.parse(token)
        except ValueError as exc:
            raise CrmAuthFailed(f"Salesforce credentials: {exc}") from None
        return SalesforceCrm(parsed, config.salesforce_domain, base_url=self.salesforce_base_url)
