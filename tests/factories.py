"""Small factories for test data."""

from __future__ import annotations

from datetime import UTC, datetime
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
