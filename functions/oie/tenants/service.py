"""Creating and changing tenants: a change touches only the fields it names."""

from __future__ import annotations

import json
import secrets as random
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from oie.errors import Conflict, InputError, NotFound
from oie.ports import TenantStore
from oie.tenants.models import AlertChannel, Tenant

# Fields no update may change: the id names the documents, and every issued link depends on the secret.
FIXED_FIELDS = ("tenant_id", "id_secret_ref")


def _validated(fields: Mapping[str, object]) -> Tenant:
    try:
        return Tenant.model_validate(dict(fields))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(first["msg"], field=".".join(str(p) for p in first["loc"])) from None


def create_tenant(
    store: TenantStore,
    fields: dict[str, object],
    *,
    allow_local_secret: bool,
    replace: bool = False,
) -> Tenant:
    """Validate and store a tenant; without a secret reference, generate a local one (dev only).

    With `replace`, an existing tenant keeps every field `fields` does not name (alert
    channels, webhook key, reply domain …) and always keeps its id secret.
    """
    existing = store.get(str(fields.get("tenant_id", ""))) if fields.get("tenant_id") else None
    if existing is not None and not replace:
        raise Conflict(f"tenant {existing.tenant_id!r} exists (change it with `oie tenant update`)", field="tenant_id")
    if existing is not None:
        return update_tenant(store, existing.tenant_id, {k: v for k, v in fields.items() if k != "tenant_id"})
    if not fields.get("id_secret_ref"):
        if not allow_local_secret:
            raise InputError("production tenants need --secret-ref sm://…", field="id_secret_ref")
        from oie.adapters.secrets import new_local_ref

        fields = {**fields, "id_secret_ref": new_local_ref(random.token_bytes(32))}
    tenant = _validated(fields)
    store.put(tenant)
    return tenant


def update_tenant(store: TenantStore, tenant_id: str, changes: Mapping[str, object]) -> Tenant:
    """Change the named fields of a stored tenant, validated as a whole; every other field stays."""
    existing = store.get(tenant_id)
    if existing is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    for name in changes:
        if name not in Tenant.model_fields:
            raise InputError(f"tenants have no field {name!r} (fields: {', '.join(updatable_fields())})", field=name)
    secret = changes.get("id_secret_ref")
    if secret and secret != existing.id_secret_ref:
        raise InputError("a tenant's id secret never changes: every issued link depends on it", field="id_secret_ref")
    if changes.get("tenant_id", tenant_id) != tenant_id:
        raise InputError("a tenant's id never changes", field="tenant_id")
    tenant = _validated({**existing.model_dump(), **changes})
    if tenant != existing:
        store.put(tenant)
    return tenant


def updatable_fields() -> list[str]:
    return [name for name in Tenant.model_fields if name not in FIXED_FIELDS]


def parse_field_value(name: str, raw: str) -> Any:
    """A command-line value for a tenant field: JSON for lists and objects (`[{"kind": …}]`),
    a comma-separated list for lists of names, the text itself otherwise (the model converts)."""
    field = Tenant.model_fields.get(name)
    if field is None:
        raise InputError(f"tenants have no field {name!r} (fields: {', '.join(updatable_fields())})", field=name)
    is_list = "tuple" in str(field.annotation)
    text = raw.strip()
    if text[:1] in ("[", "{") and is_list:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc}", field=name) from None
    if is_list:
        return tuple(part.strip() for part in text.split(",") if part.strip())
    return raw


def _item_key(item: Any) -> str:
    """What identifies a list item: an alert channel by its URL, a name case-insensitively."""
    if isinstance(item, AlertChannel):
        return str(item.url).rstrip("/").lower()
    if isinstance(item, Mapping):
        return str(item.get("url", "")).rstrip("/").lower()
    return str(item).strip().lower()


def with_items(tenant: Tenant, name: str, items: Any, *, add: bool) -> tuple[Any, ...]:
    """A list field of `tenant` with `items` added (once each, in order) or removed."""
    current = getattr(tenant, name, None)
    if not isinstance(current, tuple):
        raise InputError(f"{name} is not a list: use --set", field=name)
    values = list(items) if isinstance(items, (list, tuple)) else [items]
    wanted = {_item_key(v) for v in values}
    if add:
        held = {_item_key(c) for c in current}
        return (*current, *(v for v in values if _item_key(v) not in held))
    return tuple(c for c in current if _item_key(c) not in wanted)
