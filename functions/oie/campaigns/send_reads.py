"""What a send step reads once it knows its state: the sender, the tenant's limits, the
message's claim and the address's suppression, in one batched read.

`PortReads` asks each port in turn (the unit tests' fakes, any store without batched
reads); `FirestoreSendReads` (send_reads_firestore.py) asks Firestore once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from oie.campaigns.limits import LimitsConfig
from oie.campaigns.models import SenderIdentity
from oie.campaigns.ports import OutboundMessages, SenderStore
from oie.suppressions.models import Channel
from oie.suppressions.store import SuppressionStore


@dataclass(frozen=True)
class SendInputs:
    """Everything a send step decides on besides its state and controls."""

    sender: SenderIdentity | None
    limits: LimitsConfig
    message: dict[str, Any] | None  # the claim of an earlier delivery of this step, if any
    suppressed: bool


class SendReads(Protocol):
    def read(self, tenant_id: str, sender_id: str, message_id: str, channel: Channel, address: str) -> SendInputs:
        """The sender, limits, message claim and suppression a send step needs, read together."""
        ...


@dataclass(frozen=True)
class PortReads:
    """SendReads one port at a time."""

    senders: SenderStore
    messages: OutboundMessages
    suppressions: SuppressionStore

    def read(self, tenant_id: str, sender_id: str, message_id: str, channel: Channel, address: str) -> SendInputs:
        return SendInputs(
            sender=self.senders.get(tenant_id, sender_id),
            limits=self.senders.limits(tenant_id),
            message=self.messages.get(tenant_id, message_id),
            suppressed=self.suppressions.is_suppressed(tenant_id, channel, address),
        )
