"""drain_click_spool: move clicks spooled while the warehouse was down into email_clicks."""

from __future__ import annotations

from typing import Any

from oie.ports import ClickSpool, Warehouse

BATCH = 500


def drain_click_spool(spool: ClickSpool, warehouse: Warehouse, max_batches: int = 20) -> dict[str, Any]:
    """Insert spooled clicks (idempotent by click_id), then forget them."""
    moved = 0
    for _ in range(max_batches):
        batch = spool.take(BATCH)
        if not batch:
            break
        warehouse.insert_rows("email_clicks", [row for _, row in batch], id_field="click_id")
        spool.remove(row_id for row_id, _ in batch)
        moved += len(batch)
    return {"rows": moved}
