"""Per-tenant limits on the model: a daily token budget and a cap on concurrent calls.

The budget is a sharded daily counter so a tenant's planners do not queue on one document.
Each shard holds tokens used and reserved and a cap; the caps of a day's shards always add up
to the budget, so a reservation that fits its own shard fits the day. A reservation tries a
random shard alone; only when shards are missing, full, or partitioned for another budget
does it read every shard, check the day's total, and share the room left among the shards
again (`partition`). Concurrency is one lease document per slot, taken one at a time.
The Firestore adapters are in oie.planner.firestore.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

SHARDS = 16  # enough that a few dozen concurrent planners rarely pick the same shard


class TokenBudget(Protocol):
    def reserve(self, tenant_id: str, day: date, tokens: int, limit: int) -> bool:
        """Reserve `tokens` of the day's `limit`; False (nothing reserved) when they do not fit."""
        ...

    def settle(self, tenant_id: str, day: date, reserved: int, used: int) -> None:
        """Turn a reservation into the tokens actually used (0 reserved: add usage only)."""
        ...


class ConcurrencySlots(Protocol):
    def acquire(self, tenant_id: str, slots: int, holder: str, now: datetime, lease: timedelta) -> str | None:
        """Take a free (or expired) slot of the tenant's `slots`; its id, or None when all are held."""
        ...

    def release(self, tenant_id: str, slot_id: str, holder: str) -> None: ...


@dataclass(frozen=True)
class Shard:
    """One shard of a day's counter as stored; `budget` is the limit its cap was shared from."""

    used: int = 0
    reserved: int = 0
    cap: int | None = None
    budget: int | None = None

    @property
    def spent(self) -> int:
        return self.used + self.reserved


def fits_shard(shard: Shard, tokens: int, limit: int) -> bool | None:
    """Whether `tokens` fit the shard's cap; None when its cap was not shared from `limit`."""
    if shard.cap is None or shard.budget != limit:
        return None
    return shard.spent + tokens <= shard.cap


def partition(limit: int, spent: list[int], reserve_on: int, tokens: int) -> list[int] | None:
    """New caps (adding up to `limit`) once `tokens` go on shard `reserve_on`; None when the day lacks room.

    Each shard keeps what it has spent plus an equal share of the room left, so every shard
    is within its cap and the caps add up to the budget.
    """
    after = [s + tokens if n == reserve_on else s for n, s in enumerate(spent)]
    room = limit - sum(after)
    if room < 0:
        return None
    share, extra = divmod(room, len(after))
    return [s + share + (1 if n < extra else 0) for n, s in enumerate(after)]


def free_slots(slots: int, held: set[str]) -> list[str]:
    """The ids of the tenant's first `slots` slots that no live lease holds."""
    return [slot_id(n) for n in range(slots) if slot_id(n) not in held]


def slot_id(n: int) -> str:
    return f"slot-{n}"
