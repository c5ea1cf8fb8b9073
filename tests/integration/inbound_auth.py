"""Posting an Inbound Parse form as SendGrid does: with the tenant's basic-auth credential."""

from __future__ import annotations

import base64
from typing import Any

from oie.webhooks.inbound_auth import new_credential


def inbound_post(app: Any, gateway: Any, tenant_id: str, form: dict[str, str]) -> Any:
    credentials, stored = new_credential(tenant_id)
    tenant = app.tenants.get(tenant_id)
    app.tenants.put(tenant.model_copy(update={"inbound_parse_credential": stored}))
    basic = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
    return gateway.post(
        f"/webhooks/inbound/{tenant_id}",
        data=form,
        content_type="multipart/form-data",
        headers={"Authorization": f"Basic {basic}"},
    )
