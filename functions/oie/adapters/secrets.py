"""Resolving secret references: Secret Manager in production, inline `local:` ones in development."""

from __future__ import annotations

import base64
import re
from functools import lru_cache

from oie.errors import InputError

_SM = re.compile(r"^sm://(projects/[^/]+/secrets/[^/]+/versions/[^/]+)$")


def new_local_ref(secret: bytes) -> str:
    """A development-only reference that carries the secret itself."""
    return "local:" + base64.urlsafe_b64encode(secret).decode()


class SecretResolver:
    """Resolves `sm://…` through Secret Manager and, unless refused, `local:…` inline."""

    def __init__(self, allow_local: bool) -> None:
        self.allow_local = allow_local

    @lru_cache(maxsize=256)  # noqa: B019 - one resolver per process; secrets are few
    def resolve(self, ref: str) -> bytes:
        if ref.startswith("local:"):
            if not self.allow_local:
                raise InputError("inline local: secrets are refused in production", field="id_secret_ref")
            return base64.urlsafe_b64decode(ref.removeprefix("local:"))
        match = _SM.match(ref)
        if not match:
            raise InputError(f"not a secret reference: {ref[:12]}…", field="id_secret_ref")
        from google.cloud import secretmanager

        client = secretmanager.SecretManagerServiceClient()
        return bytes(client.access_secret_version(name=match.group(1)).payload.data)
