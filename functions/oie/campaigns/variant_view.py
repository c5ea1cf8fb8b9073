"""The console's variant tests: per-variant funnels grouped by campaign and node, with each
variant's significance against the best other variant on the node's metric (`console_variant_funnels`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from oie.campaigns import experiments as stats
from oie.campaigns.plan import Experiment

MAX_VARIANT_ROWS = 200  # the page reads at most this many variants
# Before the job's first reading of a node: the plan language's defaults, on replies.
DEFAULT = Experiment(metric="reply")
METRIC_LABELS = {"reply": "Reply rate", "click": "Click rate", "hot": "Became-hot rate"}
STATUS_LABELS = {
    "winner_set": "Winner chosen",
    "winner_kept": "Winner chosen",
    "significant": "Significant (automatic winner off)",
    "collecting": "Collecting",
    "no_experiment": "Measured only (no experiment set)",
}


@dataclass(frozen=True)
class VariantRow:
    variant_id: str
    steps: tuple[int, ...]  # in the order of STEP_LABELS
    rate: float
    comparison: stats.Comparison | None
    is_winner: bool


@dataclass(frozen=True)
class NodeTest:
    campaign_id: str
    node_id: str
    metric_label: str
    confidence: float
    min_per_variant: int
    status: str
    winner: str | None
    variants: tuple[VariantRow, ...]


STEPS = ("sent", "delivered", "opened", "clicked", "replied", "became_hot")
STEP_LABELS = ("Contacts sent", "Delivered", "Human opens", "Clicks", "Replies", "Became hot")


def node_tests(rows: Iterable[dict[str, Any]]) -> dict[str, list[NodeTest]]:
    """Campaign id → its nodes' variant tests, from `console_variant_funnels` rows (ordered by campaign, node)."""
    found: dict[str, list[NodeTest]] = {}
    for (campaign_id, node_id), group in groupby(rows, key=lambda r: (str(r["campaign_id"]), str(r["node_id"]))):
        items = list(group)
        found.setdefault(campaign_id, []).append(_node(campaign_id, node_id, items))
    return found


def _node(campaign_id: str, node_id: str, items: list[dict[str, Any]]) -> NodeTest:
    first = items[0]
    metric = str(first["metric"] or DEFAULT.metric)
    confidence = float(first["confidence"] or DEFAULT.confidence)
    minimum = int(first["min_per_variant"] or DEFAULT.min_per_variant)
    column = stats.METRIC_COLUMNS[metric]
    counts = [stats.VariantCounts(str(r["variant_id"]), int(r["sent"]), int(r[column])) for r in items]
    figures = stats.against_best_other(counts, confidence, minimum)
    winner = first["winner_variant_id"]
    variants = tuple(
        VariantRow(
            variant_id=c.variant_id,
            steps=tuple(int(r[s]) for s in STEPS),
            rate=c.rate,
            comparison=figures.get(c.variant_id),
            is_winner=c.variant_id == winner,
        )
        for c, r in zip(counts, items, strict=True)
    )
    return NodeTest(
        campaign_id=campaign_id,
        node_id=node_id,
        metric_label=METRIC_LABELS[metric],
        confidence=confidence,
        min_per_variant=minimum,
        status=STATUS_LABELS.get(str(first["status"] or ""), "Not evaluated yet"),
        winner=str(winner) if winner else None,
        variants=variants,
    )
