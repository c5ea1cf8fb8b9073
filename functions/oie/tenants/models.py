"""A tenant: one brand or customer of the deployment, isolated from every other."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

TENANT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}$")

IpMode = Literal["truncate", "hash", "full", "none"]
PROFILE_FIELDS = (
    "firstName",
    "company",
    "industry",
    "intentLevel",
    "intentScore",
    "viewedPricing",
    "viewedCaseStudies",
)


def normalise_host(host: str) -> str:
    """Lower-case a host name, drop a trailing dot and encode it as IDNA (punycode)."""
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def is_domain(host: str) -> bool:
    """Whether a (normalised) host is a domain name."""
    return bool(_DOMAIN.match(host))


Level = Literal["cold", "warm", "hot", "burning"]
LEVEL_RANK: dict[str, int] = {"cold": 0, "warm": 1, "hot": 2, "burning": 3}


class AlertChannel(BaseModel):
    """Where hot-lead alerts go: a Slack incoming webhook, or any HTTPS endpoint (n8n, Zapier, a CRM)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["slack", "generic"]
    url: HttpUrl
    # Alert when a lead rises to this level or above.
    min_level: Level = "hot"


class Tenant(BaseModel):
    """Tenant configuration as stored in Firestore `tenants/{tenant_id}`."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str = Field(pattern=TENANT_ID.pattern)
    name: str = Field(min_length=1, max_length=200)
    # Website origins the pixel may post from (`https://www.acme.com`), for /track CORS.
    allowed_origins: tuple[str, ...] = ()
    # Domains /go may redirect to; each also allows its subdomains.
    redirect_domains: tuple[str, ...] = Field(min_length=1)
    default_landing_url: HttpUrl
    # `sm://projects/P/secrets/S/versions/V` in production; `local:<base64>` in development.
    id_secret_ref: str = Field(min_length=6)
    ip_mode: IpMode = "truncate"
    # Hosts that serve this tenant's /go links, so an unknown id still finds its tenant.
    go_hosts: tuple[str, ...] = ()
    # Profile fields /personalize may give a verified visitor's page.
    personalization_fields: tuple[str, ...] = PROFILE_FIELDS
    alert_channels: tuple[AlertChannel, ...] = ()
    # SendGrid Event Webhook verification key (ECDSA P-256 public key, base64 as SendGrid shows it).
    sendgrid_webhook_public_key: str = ""
    # Domain replies come back to: Reply-To is reply+<token>@reply_domain (SendGrid Inbound Parse).
    reply_domain: str = ""
    # The tenant's Inbound Parse basic-auth credential, as `sha256:<hex>` of a random password
    # (oie.webhooks.inbound_auth); never the password. Empty: no inbound post is accepted.
    inbound_parse_credential: str = Field(default="", pattern=r"^(sha256:[0-9a-f]{64})?$")
    # Days events, sessions and clicks are kept (the warehouse's partitions expire at 730).
    retention_days: int = Field(default=730, ge=1, le=730)

    @field_validator("redirect_domains", "go_hosts")
    @classmethod
    def _valid_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(normalise_host(h) for h in hosts)
        for host in cleaned:
            if not _DOMAIN.match(host.split(":")[0]):
                raise ValueError(f"{host!r} is not a domain name")
        return cleaned

    @field_validator("allowed_origins")
    @classmethod
    def _valid_origins(cls, origins: tuple[str, ...]) -> tuple[str, ...]:
        for origin in origins:
            if not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(f"{origin!r} is not an origin like https://www.example.com")
        return tuple(o.lower() for o in origins)
