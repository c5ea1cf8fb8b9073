"""Where a connected CRM's token goes: a Secret Manager secret per tenant (`oie-crm-<tenant>`).

Development keeps it inline (`local:` refs, refused in production by the resolver).
Only the reference is stored with the tenant's config; the token is never logged.
"""

from __future__ import annotations

import contextlib
from typing import Any, Protocol

from oie.adapters.secrets import new_local_ref
from oie.errors import BackendUnavailable

SECRET_PREFIX = "oie-crm-"


class TokenStore(Protocol):
    def store(self, tenant_id: str, token: bytes) -> str:
        """Keep the token; return the reference a SecretResolver resolves."""
        ...


class LocalTokens:
    """Development: the reference carries the token itself."""

    def store(self, tenant_id: str, token: bytes) -> str:
        return new_local_ref(token)


class SecretManagerTokens:
    """Production: a new version of `projects/P/secrets/oie-crm-<tenant>` (created on first connect)."""

    def __init__(self, project: str, client: Any = None) -> None:
        self.project = project
        self._client = client

    def _sm(self) -> Any:
        if self._client is None:
            from google.cloud import secretmanager

            from oie.adapters.gapic_deadlines import bound_transport

            self._client = secretmanager.SecretManagerServiceClient()
            bound_transport(self._client._transport, "secrets")
        return self._client

    def store(self, tenant_id: str, token: bytes) -> str:
        from google.api_core import exceptions as gexc

        parent = f"projects/{self.project}"
        secret = f"{parent}/secrets/{SECRET_PREFIX}{tenant_id}"
        try:
            # Reconnecting: a new version of the same secret.
            with contextlib.suppress(gexc.AlreadyExists):
                self._sm().create_secret(
                    request={
                        "parent": parent,
                        "secret_id": f"{SECRET_PREFIX}{tenant_id}",
                        "secret": {"replication": {"automatic": {}}, "labels": {"oie-tenant": tenant_id}},
                    }
                )
            version = self._sm().add_secret_version(request={"parent": secret, "payload": {"data": token}})
        except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.RetryError) as exc:
            raise BackendUnavailable(f"secret manager is unavailable ({type(exc).__name__}); try again") from exc
        return f"sm://{version.name}"
