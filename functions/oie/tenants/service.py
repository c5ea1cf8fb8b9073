"""Creating tenants."""

from __future__ import annotations

import secrets as random

from pydantic import ValidationError

from oie.errors import Conflict, InputError
from oie.ports import TenantStore
from oie.tenants.models import Tenant


def create_tenant(
    store: TenantStore,
    fields: dict[str, object],
    *,
    allow_local_secret: bool,
    replace: bool = False,
) -> Tenant:
    """Validate and store a tenant; without a secret reference, generate a local one (dev only)."""
    if not fields.get("id_secret_ref"):
        if not allow_local_secret:
            raise InputError("production tenants need --secret-ref sm://…", field="id_secret_ref")
        from oie.adapters.secrets import new_local_ref

        fields = {**fields, "id_secret_ref": new_local_ref(random.token_bytes(32))}
    try:
        tenant = Tenant.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(first["msg"], field=".".join(str(p) for p in first["loc"])) from None
    existing = store.get(tenant.tenant_id)
    if existing is not None and not replace:
        raise Conflict(f"tenant {tenant.tenant_id!r} exists", field="tenant_id")
    if existing is not None:
        # Replacing config must never change the id secret: every issued link depends on it.
        tenant = tenant.model_copy(update={"id_secret_ref": existing.id_secret_ref})
    store.put(tenant)
    return tenant
