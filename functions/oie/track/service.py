"""Accepting a batch: check the tenant and origin, validate each event, enrich, write once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from oie import json_input
from oie.errors import Forbidden, InputError
from oie.go import scanners
from oie.go.cache import ReadThroughCache
from oie.identity import tokens
from oie.ports import Clock, Company, CompanyLookup, Warehouse
from oie.privacy import keep_ip
from oie.tenants.models import IpMode, Tenant
from oie.track.bounds import surely_clean, within
from oie.track.enrich import device_facts, email_hashes
from oie.track.intent import IntentHandoff
from oie.track.models import (
    BatchIn,
    EventIn,
    FormSubmitProps,
    InvalidEvent,
    Rejected,
    page_of,
    parse_event,
)
from oie.track.strict import strict_batch, typed_events

# Retried batches wait in the browser's storage until the next visit; older ones are stale.
OLDEST_EVENT = timedelta(days=30)
CLOCK_SKEW = timedelta(minutes=10)
# The envelope's values (events aside): small, flat, ASCII in practice.
ENVELOPE_BOUNDS = json_input.Bounds(depth=3, string=256, items=64, key=64)
# Distinct (address, IP mode) pairs whose kept form and company are remembered.
IP_CACHE_SIZE = 4096
_NOT_STORED: set[str] = {"email"}  # never changed


@dataclass(frozen=True)
class RequestFacts:
    """What the HTTP layer knows about the caller."""

    origin: str | None
    user_agent: str
    client_ip: str | None
    country: str | None = None
    region: str | None = None
    city: str | None = None


@dataclass
class TrackResult:
    accepted: int
    rejected: list[Rejected] = field(default_factory=list)


def _field_path(prefix: str, error: ErrorDetails) -> str:
    return ".".join([prefix, *(str(p) for p in error["loc"])]) if error["loc"] else prefix


def origin_allowed(tenant: Tenant, origin: str | None) -> bool:
    """Whether the pixel may post for `tenant` from `origin`."""
    return origin is not None and origin.lower() in tenant.allowed_origins


@dataclass
class TrackService:
    tenants: ReadThroughCache[Tenant]
    warehouse: Warehouse
    clock: Clock
    companies: CompanyLookup
    token_key: bytes
    ip_hash_key: bytes
    # Page visits of contacts whose plan waits on one (oie.track.intent); None: not handed over.
    intent: IntentHandoff | None = None
    # The address as the tenant keeps it, and its company, by (address, mode): a visitor sends many batches.
    _ip_facts: Callable[[str | None, IpMode], tuple[str | None, Company | None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._ip_facts = lru_cache(maxsize=IP_CACHE_SIZE)(self._load_ip_facts)

    def parse(self, body: bytes, *, clean: bool = False) -> BatchIn:
        """The batch envelope, or an InputError naming the field (`clean`: `surely_clean(body)`)."""
        data = json_input.loads(body)
        if not isinstance(data, dict):
            raise InputError("a batch is a JSON object", field="batch")
        # The envelope's own values; each event is checked on its own, so one costs no other.
        envelope = {k: v for k, v in data.items() if k != "events"}
        if not (clean and within(envelope, ENVELOPE_BOUNDS)) and (
            found := json_input.problem(envelope, ENVELOPE_BOUNDS)
        ):
            raise InputError(found.message, field=_join("batch", found.path))
        try:
            return BatchIn.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise InputError(first["msg"], field=_field_path("batch", first)) from None

    def accept(self, body: bytes, facts: RequestFacts) -> TrackResult:
        """Store every valid event of a batch; report the rest. Nothing is stored for a foreign origin."""
        # One scan of the raw body spares checking every decoded string for NUL and surrogates.
        clean = surely_clean(body)
        # The pixel's own batches pass in one call; anything else takes the exact path, which says where.
        strict = strict_batch(body) if clean else None
        batch = strict or self.parse(body, clean=clean)
        tenant = self.tenants.get(batch.tenant)
        if tenant is None or not origin_allowed(tenant, facts.origin):
            # One answer for both, so a caller cannot probe which tenants exist.
            raise Forbidden("this origin may not send events for this tenant", field="origin")
        now = self.clock.now()
        valid, rejected = self._validate(batch, now, clean, typed_events(strict) if strict else None)
        identity = tokens.check(self.token_key, tenant.tenant_id, batch.tok, batch.i, batch.vid, now)
        rows = self._rows(tenant, batch, valid, identity, self._request_columns(tenant, facts), now)
        if rows:
            self.warehouse.insert_rows("events", rows, id_field="event_id")
        # After the insert: a failed hand-off answers 503, and the retried batch's events are stored once.
        if rows and batch.i and self.intent is not None and identity.status != "forged":
            self.intent.hand_over(tenant.tenant_id, batch.i, rows)
        return TrackResult(accepted=len(valid), rejected=rejected)

    def _validate(
        self,
        batch: BatchIn,
        now: datetime,
        clean: bool = False,
        typed: list[tuple[EventIn, BaseModel]] | None = None,
    ) -> tuple[list[tuple[EventIn, BaseModel]], list[Rejected]]:
        """The valid events with their typed props, and the rejected ones by index and field.

        `typed`: the events `strict_batch` already validated; otherwise each raw event is parsed here.
        """
        valid: list[tuple[EventIn, BaseModel]] = []
        rejected: list[Rejected] = []
        # Compared in milliseconds: a datetime cannot hold every number a client can send.
        oldest = int((now - OLDEST_EVENT).timestamp() * 1000)
        newest = int((now + CLOCK_SKEW).timestamp() * 1000)
        for index, raw in enumerate(typed if typed is not None else batch.events):
            if typed is not None:
                event, props = raw
            else:
                try:
                    event, props = parse_event(raw, clean=clean)
                except InvalidEvent as exc:
                    field = _join(f"events[{index}]", exc.field)
                    rejected.append(Rejected(index=index, field=field, message=exc.message))
                    continue
            if not oldest <= event.ts <= newest:
                rejected.append(
                    Rejected(
                        index=index,
                        field=f"events[{index}].ts",
                        message="timestamp is more than 30 days old or in the future",
                    )
                )
                continue
            valid.append((event, props))
        return valid, rejected

    def _request_columns(self, tenant: Tenant, facts: RequestFacts) -> dict[str, Any]:
        """Columns every event of one request shares: device, network, place, bot verdict."""
        device = device_facts(facts.user_agent)
        verdict = scanners.classify("POST", facts.user_agent, facts.client_ip)
        kept_ip, company = self._ip_facts(facts.client_ip, tenant.ip_mode)
        spider = device.device_type == "bot"
        return {
            "user_agent": facts.user_agent[:512],
            "browser": device.browser,
            "browser_version": device.browser_version,
            "os": device.os,
            "device_type": device.device_type,
            "ip": kept_ip,
            "country": facts.country,
            "region": facts.region,
            "city": facts.city,
            "company_name": company.name if company else None,
            "company_domain": company.domain if company else None,
            "is_bot": verdict.is_bot or spider,
            "bot_reasons": [*verdict.reasons, *(["user_agent:spider"] if spider else [])],
        }

    def _load_ip_facts(self, ip: str | None, mode: IpMode) -> tuple[str | None, Company | None]:
        return keep_ip(ip, mode, self.ip_hash_key), self.companies.lookup(ip)

    def _rows(
        self,
        tenant: Tenant,
        batch: BatchIn,
        valid: list[tuple[EventIn, BaseModel]],
        identity: tokens.Identity,
        request: dict[str, Any],
        now: datetime,
    ) -> list[dict[str, Any]]:
        """One row per distinct event id: the batch's shared columns, built once, and each event's own."""
        ctx = batch.ctx
        shared = {
            "tenant_id": tenant.tenant_id,
            "visitor_id": batch.vid,
            "session_id": batch.sid,
            "tracking_id": batch.i,
            "identity_status": identity.status,
            "received_at": now,
            "email_sha256": None,
            "email_sha1": None,
            "email_md5": None,
            "viewport_width": ctx.vw,
            "viewport_height": ctx.vh,
            "screen_width": ctx.sw,
            "screen_height": ctx.sh,
            "language": ctx.lang,
            "tz_offset_min": ctx.tzo,
            "visit_number": ctx.visit,
            **request,
        }
        rows: dict[str, dict[str, Any]] = {}
        for event, props in valid:
            event_id = f"{batch.vid}.{event.id}"
            if event_id in rows:
                continue  # an id repeated inside a batch is stored once, its first copy, as a retried batch
            # A copy of one dict and a few stores: cheaper than building each row's forty keys anew.
            row = shared.copy()
            row["event_id"] = event_id
            row["event_type"] = event.type
            row["occurred_at"] = datetime.fromtimestamp(event.ts / 1000, UTC)
            row["page_url"] = event.url
            row["page_host"], row["page_path"] = page_of(event.url)
            if isinstance(props, FormSubmitProps):
                # Only a form submit carries an email, and it is stored only as hashes.
                if hashes := email_hashes(props.email):
                    row["email_sha256"], row["email_sha1"], row["email_md5"] = hashes.sha256, hashes.sha1, hashes.md5
                row["props"] = props.model_dump_json(exclude=_NOT_STORED, exclude_none=True)
            else:
                # Compact JSON from pydantic-core (UTF-8 as is, where json.dumps would escape it).
                row["props"] = props.model_dump_json(exclude_none=True)
            rows[event_id] = row
        return list(rows.values())


def _join(prefix: str, path: str) -> str:
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"
