"""Small factories for test data."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from itertools import count
from typing import Any

from oie.links.models import Link
from oie.tenants.models import Tenant


def make_tenant(**overrides: Any) -> Tenant:
    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "name": "Acme",
        "allowed_origins": ("https://www.acme.com",),
        "redirect_domains": ("acme.com",),
        "default_landing_url": "https://www.acme.com/",
        "id_secret_ref": "local:c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0",
        "go_hosts": ("links.acme.com",),
    }
    fields.update(overrides)
    return Tenant.model_validate(fields)


def make_link(**overrides: Any) -> Link:
    fields: dict[str, Any] = {
        "tracking_id": "ab3f9k2q",
        "tenant_id": "acme",
        "campaign_id": "q1-enterprise",
        "lead_id": "ld_0000000000000001",
        "landing_url": "https://www.acme.com/demo",
        "created_at": datetime(2026, 3, 1, tzinfo=UTC),
    }
    fields.update(overrides)
    return Link.model_validate(fields)


def csv_text(*rows: str, header: str = "email,first_name,last_name,company,title") -> list[str]:
    return [line + "\n" for line in (header, *rows)]


_event_ids = count()


def event_row(
    tenant: str,
    vid: str,
    at: datetime,
    type_: str,
    path: str = "/",
    i: str | None = None,
    received: datetime | None = None,
    email: str | None = None,
    **props: Any,
) -> dict[str, Any]:
    """An `events` row as /track writes it, for warehouse tests (only the columns that matter)."""
    return {
        "event_id": f"{vid}.e{next(_event_ids):06d}",
        "tenant_id": tenant,
        "visitor_id": vid,
        "session_id": "pixel-session",
        "tracking_id": i,
        "identity_status": "verified" if i else "anonymous",
        "event_type": type_,
        "occurred_at": at,
        "received_at": received or at,
        "page_url": f"https://site.example{path}",
        "page_path": path,
        "props": json.dumps(props),
        "email_sha256": hashlib.sha256(email.encode()).hexdigest() if email else None,
        "is_bot": False,
    }


def identity_row(
    tenant: str,
    tracking_id: str,
    lead_id: str,
    email: str = "",
    created_at: datetime | None = None,
    campaign_id: str = "c1",
) -> dict[str, Any]:
    """An `identity_map` row: which lead a tracking id stands for."""
    return {
        "tenant_id": tenant,
        "tracking_id": tracking_id,
        "lead_id": lead_id,
        "campaign_id": campaign_id,
        "email_sha256": hashlib.sha256(email.encode()).hexdigest() if email else None,
        "created_at": created_at or datetime(2026, 2, 1, tzinfo=UTC),
    }


def create_acme(tenants: Any, **overrides: Any) -> Tenant:
    """The Acme tenant through the real create command, with a reply domain (campaign tests)."""
    from oie.tenants.service import create_tenant

    fields: dict[str, Any] = {
        "tenant_id": "acme",
        "name": "Acme",
        "redirect_domains": ("acme.com",),
        "default_landing_url": "https://www.acme.com/",
        "reply_domain": "reply.acme.com",
    }
    fields.update(overrides)
    create_tenant(tenants, fields, allow_local_secret=True)
    tenant = tenants.get(fields["tenant_id"])
    assert tenant is not None
    return tenant
