"""Who may post Inbound Parse replies to a tenant's path: SendGrid, with that tenant's credential.

SendGrid cannot sign Inbound Parse posts, but it sends the user and password of its
configured URL (`https://<tenant>:<password>@host/webhooks/inbound/<tenant>`) as an
`Authorization: Basic` header, so the secret never travels in a URL's path or query. The
tenant keeps only a hash; the password is random (256 bits), so one fast hash suffices.
The hash binds the tenant id, so a credential never works on another tenant's path.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from pydantic import BaseModel, ConfigDict

from oie.tenants.models import Tenant

_PREFIX = "sha256:"
# Compared against when a tenant has no credential, so every refusal costs the same.
_NOTHING = _PREFIX + "0" * 64


class BasicCredentials(BaseModel):
    model_config = ConfigDict(frozen=True)

    username: str
    password: str


def credential_hash(tenant_id: str, username: str, password: str) -> str:
    """`sha256:<hex>` of the credential, bound to the tenant."""
    material = "\x1f".join(("oie-inbound-parse", tenant_id, username, password)).encode("utf-8", "surrogatepass")
    return _PREFIX + hashlib.sha256(material).hexdigest()


def new_credential(tenant_id: str) -> tuple[BasicCredentials, str]:
    """A fresh credential (the user is the tenant id) and the hash the tenant stores."""
    credentials = BasicCredentials(username=tenant_id, password=secrets.token_urlsafe(32))
    return credentials, credential_hash(tenant_id, credentials.username, credentials.password)


def is_valid(tenant: Tenant, credentials: BasicCredentials | None) -> bool:
    """Whether the credentials are this tenant's, compared in constant time."""
    expected = tenant.inbound_parse_credential or _NOTHING
    offered = credential_hash(tenant.tenant_id, credentials.username, credentials.password) if credentials else ""
    return hmac.compare_digest(expected.encode(), offered.encode()) and bool(tenant.inbound_parse_credential)


def url_with_credentials(base_url: str, tenant_id: str, credentials: BasicCredentials) -> str:
    """The URL to paste into SendGrid's Inbound Parse settings."""
    scheme, _, rest = base_url.rstrip("/").partition("://")
    return f"{scheme}://{credentials.username}:{credentials.password}@{rest}/webhooks/inbound/{tenant_id}"
