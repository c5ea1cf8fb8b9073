"""Resolving secret references: Secret Manager in production, inline `local:` ones in development."""

from __future__ import annotations

import base64
import re
import threading
from functools import lru_cache
from typing import Any

from google.api_core import exceptions as gexc

from oie.errors import BackendUnavailable, InputError

_SM = re.compile(r"^sm://(projects/[^/]+/secrets/[^/]+/versions/[^/]+)$")


def new_local_ref(secret: bytes) -> str:
    """A development-only reference that carries the secret itself."""
    return "local:" + base64.urlsafe_b64encode(secret).decode()


class SecretResolver:
    """Resolves `sm://…` through Secret Manager and, unless refused, `local:…` inline."""

    def __init__(self, allow_local: bool) -> None:
        self.allow_local = allow_local
        self._client: Any = None
        self._lock = threading.Lock()

    def _secret_manager(self) -> Any:
        """One Secret Manager client per resolver, its calls bounded by the caller's budget."""
        with self._lock:
            if self._client is None:
                from google.cloud import secretmanager

                from oie.adapters.gapic_deadlines import bound_transport

                client = secretmanager.SecretManagerServiceClient()
                bound_transport(client._transport, "secrets")
                self._client = client
            return self._client

    @lru_cache(maxsize=256)  # noqa: B019 - one resolver per process; secrets are few
    def resolve(self, ref: str) -> bytes:
        if ref.startswith("local:"):
            if not self.allow_local:
                raise InputError("inline local: secrets are refused in production", field="id_secret_ref")
            return base64.urlsafe_b64decode(ref.removeprefix("local:"))
        match = _SM.match(ref)
        if not match:
            raise InputError(f"not a secret reference: {ref[:12]}…", field="id_secret_ref")
        try:
            version = self._secret_manager().access_secret_version(name=match.group(1))
        except (gexc.ServiceUnavailable, gexc.DeadlineExceeded, gexc.InternalServerError, gexc.RetryError) as exc:
            raise BackendUnavailable(f"secret manager is unavailable ({exc}); try again shortly") from exc
        return bytes(version.payload.data)
