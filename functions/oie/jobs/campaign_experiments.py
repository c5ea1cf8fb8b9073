"""campaign_experiments: per-variant funnels, then a winner for each A/B/n send node once significant.

The rollup is sql/jobs/variant_metrics.sql. For each node whose funnel changed, the node's
experiment (metric, autoWinner, confidence, minPerVariant, from the plan of its latest send)
is tested with oie.campaigns.experiments; with autoWinner a significant leader becomes the
winner through the Experiments store, which refuses a second winner, so a winner never flips.
Every reading is kept in `experiment_decisions`, one row per node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from oie.campaigns import experiments as stats
from oie.campaigns.plan import Experiment, SendNode
from oie.campaigns.ports import Experiments, PlanVersions
from oie.jobs.context import JobResult, Window
from oie.logs import get_logger
from oie.ports import Warehouse

log = get_logger(__name__)
# A node with variants but no `experiment` is still measured (on replies), never decided for.
UNSET = Experiment(metric="reply")
KEYS = ("tenant_id", "campaign_id", "node_id")


@dataclass(frozen=True)
class NodeFunnel:
    """One send node's variants as the rollup counted them."""

    tenant_id: str
    campaign_id: str
    node_id: str
    plan_version: str | None
    rows: tuple[dict[str, Any], ...]
    decided_at: datetime | None

    def counts(self, metric: str) -> list[stats.VariantCounts]:
        column = stats.METRIC_COLUMNS[metric]
        return [stats.VariantCounts(str(r["variant_id"]), int(r["sent"]), int(r[column])) for r in self.rows]


def campaign_experiments(warehouse: Warehouse, plans: PlanVersions, winners: Experiments, window: Window) -> JobResult:
    """Roll up the touched variants, decide for their nodes, record each decision; re-runs change nothing."""
    rolled = warehouse.execute("variant_metrics", window.params())
    rows = warehouse.query("experiment_nodes_touched", {"now": window.now})
    readings = [_decide(node, _experiment(plans, node), winners, window.now) for node in _nodes(rows)]
    warehouse.upsert_rows("experiment_decisions", readings, key_fields=KEYS)
    chosen = sum(1 for r in readings if r["status"] == "winner_set")
    return JobResult(
        rows_written=rolled + len(readings),
        watermark=window.until,
        details={"variant_rows": rolled, "nodes": len(readings), "winners_set": chosen},
    )


def _nodes(rows: Iterable[dict[str, Any]]) -> Iterator[NodeFunnel]:
    for (tenant_id, campaign_id, node_id), group in groupby(rows, key=lambda r: tuple(r[k] for k in KEYS)):
        items = tuple(group)
        # The plan of the node's latest send says how it is judged (a rollup row always has a send).
        latest = max(items, key=lambda r: (r["last_sent_at"], r["variant_id"]))
        yield NodeFunnel(
            tenant_id=tenant_id,
            campaign_id=campaign_id,
            node_id=node_id,
            plan_version=latest["plan_version"],
            rows=items,
            decided_at=items[0]["decided_at"],
        )


def _experiment(plans: PlanVersions, node: NodeFunnel) -> Experiment | None:
    plan = plans.get(node.tenant_id, node.plan_version) if node.plan_version else None
    found = next((n for n in plan.nodes if n.id == node.node_id), None) if plan else None
    return found.experiment if isinstance(found, SendNode) else None


def _decide(node: NodeFunnel, experiment: Experiment | None, winners: Experiments, now: datetime) -> dict[str, Any]:
    spec = experiment or UNSET
    decision = stats.decide(node.counts(spec.metric), spec.confidence, spec.min_per_variant)
    where = (node.tenant_id, node.campaign_id, node.node_id)
    kept = winners.winner(*where)
    decided_at = node.decided_at
    if kept:
        status = "winner_kept"
    elif experiment is None:
        status = "no_experiment"
    elif decision.winner and experiment.auto_winner:
        if winners.set_winner(*where, decision.winner, _details(spec, decision, now)):
            kept, status, decided_at = decision.winner, "winner_set", now
            log.info("variant winner set", extra={"tenant_id": node.tenant_id, "node_id": node.node_id})
        else:  # another run recorded one first: that one stands
            kept, status = winners.winner(*where), "winner_kept"
    elif decision.winner:
        status = "significant"
    else:
        status = "collecting"
    c = decision.comparison
    return {
        **dict(zip(KEYS, where, strict=True)),
        "metric": spec.metric,
        "confidence": spec.confidence,
        "min_per_variant": spec.min_per_variant,
        "auto_winner": bool(experiment and experiment.auto_winner),
        "leader_variant_id": decision.leader,
        "runner_up_variant_id": c.against if c else None,
        "p_value": c.p_value if c else None,
        "lift": c.lift if c else None,
        "is_significant": bool(c and c.significant),
        "winner_variant_id": kept,
        "status": status,
        "reason": decision.reason,
        "decided_at": decided_at if kept else None,
        "evaluated_at": now,
    }


def _details(spec: Experiment, decision: stats.Decision, now: datetime) -> dict[str, Any]:
    c = decision.comparison
    assert c is not None  # a winner always comes with its test
    return {
        "metric": spec.metric,
        "confidence": spec.confidence,
        "min_per_variant": spec.min_per_variant,
        "against": c.against,
        "p_value": c.p_value,
        "lift": c.lift,
        "rate": c.rate,
        "against_rate": c.against_rate,
        "reason": decision.reason,
        "decided_at": now,
    }
