"""The port of one send step's transaction: read everything once, claim and take limits in one commit.

A send step opens one transaction that reads, in one batched get, the state and its controls
(again: they are the send's moment), the sender, the tenant's limits, the message's claim and
the address's suppression. Everything the step decides before the provider is called is
written by that transaction's one commit: the claim of the message together with one from
every sending limit, or the state's change (a deferral, a block, a hold). After the provider
answers, its outcome and the state's next step are written once, if the state is unchanged.
`FirestoreSendSteps` (send_step_firestore.py) implements it; the unit tests' in-memory ports
implement it too (tests/unit/campaigns/fakes.py), so they run the same send step as production.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from oie.campaigns.limits import LimitsConfig, Rule
from oie.campaigns.models import SenderIdentity
from oie.campaigns.ports import Commit, Seen
from oie.suppressions.models import Channel


@dataclass(frozen=True)
class SendInputs:
    """Everything a send step decides on besides its state and controls, read by its transaction."""

    sender: SenderIdentity | None
    limits: LimitsConfig
    message: dict[str, Any] | None  # the claim of an earlier delivery of this step, if any
    suppressed: bool


class SendStep(Protocol):
    """One open send transaction: `seen` and `inputs` as it read them."""

    seen: Seen
    inputs: SendInputs

    def known_full(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        """A limit this process already saw full in its window: (when it reopens, which rule)."""
        ...

    def write(self, seen: Seen, commit: Commit | None) -> bool:
        """Commit `commit` (the state's change) in the transaction; None ends it writing nothing."""
        ...

    def claim(self, doc: dict[str, Any], rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        """Commit the claim with one from every rule: None when sent may go ahead, else, with the claim
        and every take undone, (when to retry, which rule)."""
        ...

    def release(self) -> None:
        """Remove the claim of a send that certainly did not happen."""
        ...

    def finish(self, seen: Seen, commit: Commit | None, fields: dict[str, Any]) -> bool:
        """The provider's outcome (`fields` of the message) and the state's change in one write, if the
        state is unchanged since `seen`; False, writing nothing, when it changed."""
        ...

    def close(self) -> None:
        """End the transaction if it is still open (nothing written)."""
        ...


class SendSteps(Protocol):
    def open(
        self, tenant_id: str, ccid: str, sender_id: str, message_id: str, channel: Channel, address: str
    ) -> SendStep:
        """Begin a send step's transaction with its one batched read."""
        ...
