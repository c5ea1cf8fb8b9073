"""Sending limits as rules over windowed counters, and the pure arithmetic of taking one send.

Four kinds, all checked before a send (all-or-nothing), each turning into a later step
when exhausted: per tenant, per sender mailbox, per recipient domain, and an IP warm-up
schedule (daily caps ramping per dedicated IP pool). Each rule counts sends in fixed UTC
windows of its period (an hour, a day); a send takes one by an atomic increment, never a
read-modify-write transaction, so concurrent sends never abort each other. A hot rule is
split into shards (each a Firestore document holding its share of the window's cap),
because one document takes about one write a second. Design: docs/sending-limits.md.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

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
DAY = timedelta(days=1)
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
    """One counter a send takes from: at most `capacity` sends per UTC window of `period`."""

    key: str
    capacity: int
    period: timedelta = timedelta(hours=1)
    shards: int = 1

    def shard_count(self) -> int:
        """Never more shards than sends: every shard can take at least one."""
        return max(1, min(self.shards, self.capacity))

    def shard_capacity(self, shard: int) -> int:
        """A shard's share of the cap; the shares add up to exactly `capacity`."""
        count = self.shard_count()
        return self.capacity // count + (1 if shard < self.capacity % count else 0)

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The UTC window `now` falls in: [start, end), aligned to multiples of the period."""
        seconds = int(self.period.total_seconds())
        start = int(now.timestamp()) // seconds * seconds
        return datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(start + seconds, UTC)

    def doc_id(self, shard: int, now: datetime) -> str:
        return f"{self.key}-{self.window(now)[0]:%Y%m%d%H%M}-s{shard}"


@dataclass(frozen=True)
class Counter:
    """What a counter document holds: sends taken in its window."""

    used: int
    updated_at: datetime


def over(rule: Rule, shard: int, used_after: int, now: datetime) -> datetime | None:
    """After an increment left `used_after` in a shard: None if the send fits, else when to try again."""
    return None if used_after <= rule.shard_capacity(shard) else rule.window(now)[1]


def take(rule: Rule, counter: Counter | None, now: datetime, shard: int = 0) -> tuple[Counter, datetime | None]:
    """Take one send from a shard's counter: the new counter, and None, or when the window reopens."""
    used = counter.used if counter is not None else 0
    retry_at = over(rule, shard, used + 1, now)
    return (counter or Counter(used, now), retry_at) if retry_at else (Counter(used + 1, now), None)


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
        Rule(f"{tenant_id}-tenant", config.tenant_hourly, shards=config.tenant_shards),
        Rule(f"{tenant_id}-sender-{sender.sender_id}-h", sender.hourly_limit),
        Rule(f"{tenant_id}-sender-{sender.sender_id}-d", sender.daily_limit, period=DAY),
        Rule(f"{tenant_id}-domain-{domain_key}", per_domain, shards=4 if per_domain >= 400 else 1),
    ]
    if warmup is not None:
        cap = warmup.cap_on(now.astimezone(UTC).date())
        if cap is not None:
            rules.append(Rule(f"{tenant_id}-warmup-{warmup.pool}", cap, period=DAY, shards=4 if cap >= 4_000 else 1))
    return rules
