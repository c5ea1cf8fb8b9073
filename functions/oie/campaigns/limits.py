"""Sending limits as rules over counters, and the pure arithmetic of taking one send.

Four kinds, all checked before a send (all-or-nothing), each turning into a later step
when exhausted: per tenant, per sender mailbox, per recipient domain, and an IP warm-up
schedule (daily caps ramping per dedicated IP pool). Buckets refill continuously; warm-up
caps are calendar-day windows (UTC). A hot bucket is split into shards (each a Firestore
document holding its share), because one document takes about one write a second.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from oie.campaigns.models import SenderIdentity

# Mailbox providers throttle bulk senders hard; per hour, per sending tenant.
DEFAULT_DOMAIN_HOURLY = {
    "gmail.com": 200,
    "googlemail.com": 200,
    "yahoo.com": 150,
    "outlook.com": 150,
    "hotmail.com": 150,
    "live.com": 150,
    "icloud.com": 150,
    "*": 500,
}
# Daily caps of a new dedicated IP pool, day 1, 2, 3 …; unlimited after the last day.
DEFAULT_WARMUP = (50, 100, 200, 400, 750, 1_500, 3_000, 6_000, 12_000, 25_000, 50_000, 100_000)


class WarmupPool(BaseModel):
    """`tenants/{t}/ip_pools/{pool}`: when a dedicated IP pool started warming up, and its ramp."""

    model_config = ConfigDict(frozen=True)

    pool: str
    started_on: date
    daily_caps: tuple[int, ...] = DEFAULT_WARMUP

    def cap_on(self, day: date) -> int | None:
        index = (day - self.started_on).days
        if index < 0:
            return self.daily_caps[0]
        return self.daily_caps[index] if index < len(self.daily_caps) else None


class LimitsConfig(BaseModel):
    """`tenants/{t}/campaign_config/limits`; every field has a sensible default."""

    model_config = ConfigDict(frozen=True)

    tenant_hourly: int = Field(default=5_000, ge=1)
    domain_hourly: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_DOMAIN_HOURLY))
    # Shards for the tenant bucket: enough that Firestore's per-document write rate never binds.
    tenant_shards: int = Field(default=8, ge=1, le=64)


@dataclass(frozen=True)
class Rule:
    """One counter a send takes from: a bucket of `capacity` refilling over `period`, or a day's cap."""

    key: str
    kind: Literal["bucket", "daily"]
    capacity: int
    period: timedelta = timedelta(hours=1)
    shards: int = 1

    def shard_capacity(self) -> float:
        return self.capacity / self.shards

    def doc_id(self, shard: int, now: datetime) -> str:
        day = f"-{now.astimezone(UTC):%Y%m%d}" if self.kind == "daily" else ""
        return f"{self.key}{day}-s{shard}"


@dataclass(frozen=True)
class Counter:
    """What a bucket document holds."""

    tokens: float
    updated_at: datetime


def take(rule: Rule, counter: Counter | None, now: datetime) -> tuple[Counter, datetime | None]:
    """Take one send from a shard: the new counter, and None, or the time one is available again."""
    cap = rule.shard_capacity()
    if rule.kind == "daily":
        used = counter.tokens if counter else 0.0
        if used + 1 <= cap:
            return Counter(used + 1, now), None
        tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
        return counter or Counter(used, now), tomorrow
    rate = cap / rule.period.total_seconds()  # tokens per second
    tokens = cap if counter is None else min(cap, counter.tokens + (now - counter.updated_at).total_seconds() * rate)
    if tokens >= 1:
        return Counter(tokens - 1, now), None
    return Counter(tokens, now), now + timedelta(seconds=math.ceil((1 - tokens) / rate))


def rules_for(
    tenant_id: str,
    sender: SenderIdentity,
    recipient: str,
    config: LimitsConfig,
    warmup: WarmupPool | None,
    now: datetime,
) -> list[Rule]:
    """Every counter one send to `recipient` from `sender` takes from."""
    domain = recipient.rsplit("@", 1)[-1].lower()
    per_domain = config.domain_hourly.get(domain, config.domain_hourly.get("*", DEFAULT_DOMAIN_HOURLY["*"]))
    domain_key = hashlib.sha256(domain.encode()).hexdigest()[:16]
    rules = [
        Rule(f"{tenant_id}-tenant", "bucket", config.tenant_hourly, shards=config.tenant_shards),
        Rule(f"{tenant_id}-sender-{sender.sender_id}-h", "bucket", sender.hourly_limit),
        Rule(f"{tenant_id}-sender-{sender.sender_id}-d", "bucket", sender.daily_limit, period=timedelta(days=1)),
        Rule(f"{tenant_id}-domain-{domain_key}", "bucket", per_domain, shards=4 if per_domain >= 400 else 1),
    ]
    if warmup is not None:
        cap = warmup.cap_on(now.astimezone(UTC).date())
        if cap is not None:
            rules.append(Rule(f"{tenant_id}-warmup-{warmup.pool}", "daily", cap, shards=4 if cap >= 4_000 else 1))
    return rules
