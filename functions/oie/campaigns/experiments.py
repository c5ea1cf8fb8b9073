"""A/B/n variant statistics: a two-proportion z-test per variant, and when one variant has won.

Pure functions over contact counts (from the `variant_metrics` rollup). Each variant is
compared with the best of the others: the leader wins only when it beats the runner-up,
which implies it beats every other variant, and only once every variant has been sent to
`min_per_variant` contacts (no early peeking at a handful of sends).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Metric = Literal["reply", "click", "hot"]
# The variant_metrics column each metric counts.
METRIC_COLUMNS: dict[str, str] = {"reply": "replied", "click": "clicked", "hot": "became_hot"}


@dataclass(frozen=True)
class VariantCounts:
    """One variant of one send node: contacts it was sent to, and those who did the metric."""

    variant_id: str
    sent: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.sent if self.sent else 0.0


@dataclass(frozen=True)
class Comparison:
    """One variant against the best other variant: rates, relative lift, z, two-sided p-value."""

    variant_id: str
    against: str
    rate: float
    against_rate: float
    lift: float | None  # (rate - against_rate) / against_rate; None when against_rate is 0
    z: float
    p_value: float
    significant: bool

    @property
    def confidence(self) -> float:
        """1 - p: how sure the test is that the two rates differ."""
        return 1.0 - self.p_value


@dataclass(frozen=True)
class Decision:
    """What the counts say for one node: the leader, its test against the runner-up, the winner if any."""

    leader: str | None
    comparison: Comparison | None
    winner: str | None
    reason: str


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """Pooled two-proportion z-test of x1/n1 against x2/n2: (z, two-sided p-value).

    No sample, or no variance (both rates 0 or both 1), gives (0, 1): no evidence either way.
    """
    if n1 <= 0 or n2 <= 0:
        return 0.0, 1.0
    if not (0 <= x1 <= n1 and 0 <= x2 <= n2):
        raise ValueError("conversions must lie between 0 and the contacts sent")
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance <= 0:
        return 0.0, 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return z, p_from_z(z)


def p_from_z(z: float) -> float:
    """Two-sided p-value of a standard normal z: P(|Z| >= |z|)."""
    return min(1.0, max(0.0, math.erfc(abs(z) / math.sqrt(2))))


def compare(variant: VariantCounts, other: VariantCounts, confidence: float, min_per_variant: int) -> Comparison:
    """`variant` against `other`; significant when p <= 1 - confidence and both reached min_per_variant."""
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    z, p = two_proportion_z(variant.converted, variant.sent, other.converted, other.sent)
    enough = min(variant.sent, other.sent) >= max(min_per_variant, 1)
    lift = (variant.rate - other.rate) / other.rate if other.rate > 0 else None
    return Comparison(
        variant_id=variant.variant_id,
        against=other.variant_id,
        rate=variant.rate,
        against_rate=other.rate,
        lift=lift,
        z=z,
        p_value=p,
        significant=enough and p <= 1 - confidence,
    )


def _ranked(variants: Sequence[VariantCounts]) -> list[VariantCounts]:
    # Best rate first; ties go to the larger sample, then the id, so the order never wobbles.
    return sorted(variants, key=lambda v: (-v.rate, -v.sent, v.variant_id))


def against_best_other(
    variants: Sequence[VariantCounts], confidence: float, min_per_variant: int
) -> dict[str, Comparison]:
    """Each variant compared with the best of the other variants (the figure the console shows)."""
    ranked = _ranked(variants)
    found: dict[str, Comparison] = {}
    for variant in ranked:
        others = [v for v in ranked if v.variant_id != variant.variant_id]
        if others:
            found[variant.variant_id] = compare(variant, others[0], confidence, min_per_variant)
    return found


def decide(variants: Sequence[VariantCounts], confidence: float, min_per_variant: int) -> Decision:
    """The winner once the leader beats the runner-up significantly and every variant has enough contacts."""
    if len(variants) < 2:
        return Decision(None, None, None, "fewer than two variants have been sent")
    if len({v.variant_id for v in variants}) != len(variants):
        raise ValueError("a variant is counted twice")
    leader, runner_up = _ranked(variants)[:2]
    comparison = compare(leader, runner_up, confidence, min_per_variant)
    short = [v.variant_id for v in variants if v.sent < min_per_variant]
    if short:
        return Decision(
            leader.variant_id, comparison, None, f"below {min_per_variant} contacts: {', '.join(sorted(short))}"
        )
    if not comparison.significant:
        return Decision(
            leader.variant_id, comparison, None, f"not significant at {confidence:.0%} (p={comparison.p_value:.3g})"
        )
    reason = f"{leader.variant_id} beats {runner_up.variant_id} at {confidence:.0%} (p={comparison.p_value:.3g})"
    return Decision(leader.variant_id, comparison, leader.variant_id, reason)
