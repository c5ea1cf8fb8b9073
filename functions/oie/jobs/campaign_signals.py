"""campaign_signals: level crossings (and a sweep of recent outcomes) handed to waiting plans.

Runs right after `score` (and on its own schedule). One task per upward level change,
named by its change id, and one per recent outcome, named as the outcomes service names
it: a re-run, or an outcome whose own hand-off got through, creates no second task.
"""

from __future__ import annotations

from oie.campaigns.signal_tasks import level_signal, outcome_signal, signal_task
from oie.jobs.context import JobResult, Window
from oie.ports import TaskQueue, Warehouse


def campaign_signals(warehouse: Warehouse, tasks: TaskQueue, window: Window) -> JobResult:
    """Enqueue the window's upward level changes and the recent outcomes of leads with a campaign."""
    params = window.params()
    changes = warehouse.query("campaign_signal_level_changes", params)
    outcomes = warehouse.query("campaign_signal_outcomes", params)
    signals = [
        *(level_signal(r["tenant_id"], r["lead_id"], r["change_id"], r["to_level"], r["changed_at"]) for r in changes),
        *(
            outcome_signal(
                r["tenant_id"], r["lead_id"], r["outcome_id"], r["outcome_type"], r["outcome_stage"], r["occurred_at"]
            )
            for r in outcomes
        ),
    ]
    # A failure part way raises: the watermark stays, and the re-run's repeated names are refused.
    enqueued = sum(tasks.enqueue(signal_task(s)) for s in signals)
    return JobResult(
        rows_written=enqueued,
        rows_scanned=len(changes) + len(outcomes),
        watermark=window.until,
        details={"level_changes": len(changes), "outcomes_swept": len(outcomes), "enqueued": enqueued},
    )
