"""Recording an outbound click and choosing where to send the recipient."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from oie.errors import BackendUnavailable
from oie.go import scanners
from oie.go.cache import ReadThroughCache
from oie.go.redirect import resolve_target, with_params
from oie.identity import tokens
from oie.links.models import TRACKING_ID, Link
from oie.logs import get_logger
from oie.ports import ClickSpool, Clock, TenantStore, Warehouse
from oie.privacy import keep_ip
from oie.tenants.models import IpMode, Tenant

log = get_logger(__name__)
MAX_STORED_ID = 64
MAX_HEADER = 512


@dataclass(frozen=True)
class ClickRequest:
    """What `/go` knows about one request."""

    tracking_id: str | None
    to: str | None
    method: str
    host: str
    user_agent: str
    referrer: str
    client_ip: str | None
    country: str | None = None


@dataclass
class GoService:
    links: ReadThroughCache[Link]
    tenants: ReadThroughCache[Tenant]
    tenant_store: TenantStore
    warehouse: Warehouse
    spool: ClickSpool
    clock: Clock
    default_landing_url: str
    ip_hash_key: bytes
    token_key: bytes

    def click(self, request: ClickRequest) -> str:
        """Record the click durably and return the URL to redirect to (always one)."""
        raw_id = (request.tracking_id or "").strip()
        link: Link | None = None
        tenant: Tenant | None = None
        try:
            link = self.links.get(raw_id) if TRACKING_ID.match(raw_id) else None
            tenant = self.tenants.get(link.tenant_id) if link else None
            if tenant is None and request.host:
                tenant = self.tenant_store.find_by_go_host(request.host.split(":")[0])
        except BackendUnavailable as exc:
            # Links or tenants cannot be read within /go's budget: land on the default page
            # now, keep the click (with its tracking id) in the warehouse.
            log.warning(
                "link store unavailable, default landing", extra={"tracking_id": raw_id[:64], "error": str(exc)}
            )
            self._record(request, raw_id, link, None, self.default_landing_url, None, store_down=True)
            return self.default_landing_url
        visitor_id = None
        if link and tenant:
            location = resolve_target(str(link.landing_url), request.to, tenant.redirect_domains)
            # The pixel adopts this visitor id; the token proves it came through this link.
            visitor_id = tokens.new_visitor_id()
            token = tokens.mint(self.token_key, tenant.tenant_id, link.tracking_id, visitor_id, self.clock.now())
            location = with_params(location, {"i": link.tracking_id, "oie_t": token})
        elif tenant:
            location = resolve_target(str(tenant.default_landing_url), request.to, tenant.redirect_domains)
        else:
            location = self.default_landing_url
        self._record(request, raw_id, link, tenant, location, visitor_id)
        return location

    def _record(
        self,
        request: ClickRequest,
        raw_id: str,
        link: Link | None,
        tenant: Tenant | None,
        location: str,
        visitor_id: str | None,
        store_down: bool = False,
    ) -> None:
        verdict = scanners.classify(request.method, request.user_agent, request.client_ip)
        click_id = uuid.uuid4().hex
        row: dict[str, Any] = {
            "click_id": click_id,
            "tenant_id": tenant.tenant_id if tenant else link.tenant_id if link else None,
            "tracking_id": raw_id[:MAX_STORED_ID] or None,
            "is_known_link": link is not None,
            "lead_id": link.lead_id if link else None,
            "campaign_id": link.campaign_id if link else None,
            "visitor_id": visitor_id,
            "clicked_at": self.clock.now(),
            "method": request.method.upper()[:8],
            "target_url": location[:2048],
            "user_agent": request.user_agent[:MAX_HEADER],
            "referrer": request.referrer[:MAX_HEADER] or None,
            # A tenant we could not read may keep no address at all: keep none for it.
            "ip": keep_ip(request.client_ip, _ip_mode(tenant, store_down), self.ip_hash_key),
            "country": request.country,
            "is_bot": verdict.is_bot,
            "bot_reasons": list(verdict.reasons),
        }
        try:
            self.warehouse.insert_rows("email_clicks", [row], id_field="click_id")
        except BackendUnavailable as exc:
            # The recipient must still land; keep the click for drain_click_spool.
            log.warning(
                "warehouse unavailable, spooling click",
                extra={"click_id": click_id, "error": str(exc)},
            )
            try:
                if store_down:
                    # The spool is Firestore too; another wait would break /go's budget.
                    raise BackendUnavailable("firestore already failed in this request")
                self.spool.add(row, row_id=click_id)
            except BackendUnavailable:
                log.error(
                    "click could not be stored; logged in full for recovery",
                    extra={"spooled_click": row},
                )


def _ip_mode(tenant: Tenant | None, store_down: bool) -> IpMode:
    if tenant is not None:
        return tenant.ip_mode
    return "none" if store_down else "truncate"
