"""A warehouse failure during a webhook delivery never echoes the rows it refused (they hold addresses)."""

from __future__ import annotations

import json

import pytest

from oie.errors import BackendUnavailable
from tests.fakes import FakeWarehouse, RecordingQueue
from tests.property.test_sendgrid_events import NOW, SIGNER, webhooks


class QuotingWarehouse(FakeWarehouse):
    """Fails as real drivers do: the message quotes the offending row."""

    def insert_rows(self, table, rows, *, id_field):  # type: ignore[no-untyped-def]
        if table == "message_events":
            raise RuntimeError(f"refused row {json.dumps(rows[0], default=str)}")
        return super().insert_rows(table, rows, id_field=id_field)


def test_a_refused_warehouse_write_is_a_retry_that_names_no_recipient():
    body = json.dumps([{"event": "delivered", "email": "ada@example.com", "timestamp": NOW, "sg_event_id": "e1"}])
    with pytest.raises(BackendUnavailable) as raised:
        webhooks(QuotingWarehouse(), RecordingQueue()).receive(
            "acme", body.encode(), SIGNER.sign(body.encode(), str(NOW)), str(NOW)
        )
    assert "ada@example.com" not in raised.value.message
    assert "RuntimeError" in raised.value.message
