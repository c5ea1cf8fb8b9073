"""oie.campaigns.send_step.SendSteps on Firestore: a read-write transaction begun by its one batched get.

The transaction begins inside `BatchGetDocuments` (`new_transaction`), so it costs no
`BeginTransaction` round trip, and ends with one `Commit` (or a `Rollback` when it writes
nothing). It holds the state and the controls it read until then: a pause, stop or event
committed before that read stops the send; one that comes after waits for the commit, and
so comes after the send's claim. The rate-limit counters are only written (increments),
never read in it, so concurrent steps do not contend on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_client import _parse_batch_get

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.firestore import FirestoreCampaignStates
from oie.campaigns.limits import LimitsConfig, Rule
from oie.campaigns.limits_firestore import FirestoreRateLimiter
from oie.campaigns.models import SenderIdentity
from oie.campaigns.ports import Commit, Seen
from oie.campaigns.send_step import SendInputs
from oie.errors import BackendUnavailable
from oie.logs import get_logger
from oie.suppressions.models import Channel, address_key

log = get_logger(__name__)


class FirestoreSendStep:
    """One open send transaction (oie.campaigns.send_step.SendStep)."""

    def __init__(
        self,
        client: firestore.Client,
        states: FirestoreCampaignStates,
        limiter: FirestoreRateLimiter,
        refs: list[Any],
    ) -> None:
        self._client, self._states, self._limiter = client, states, limiter
        self._message = refs[5]
        self._tx, snaps = self._begin(refs)
        self.seen = states.parse_step(snaps[:3])
        sender, limits, message, suppression = (_data(s) for s in snaps[3:])
        self.inputs = SendInputs(
            sender=SenderIdentity.model_validate(sender) if sender is not None else None,
            limits=LimitsConfig.model_validate(limits) if limits is not None else LimitsConfig(),
            message=message,
            suppressed=suppression is not None,
        )

    def _begin(self, refs: list[Any]) -> tuple[bytes | None, list[Any]]:
        paths = {ref._document_path: ref for ref in refs}
        request = {
            "database": self._client._database_string,
            "documents": list(paths),
            "new_transaction": {"read_write": {}},
        }

        def get() -> tuple[bytes | None, dict[str, Any]]:
            tx, found = None, {}
            api = self._client._firestore_api
            for response in api.batch_get_documents(
                request=request, metadata=self._client._rpc_metadata, timeout=READ_TIMEOUT
            ):
                tx = response.transaction or tx
                if response._pb.WhichOneof("result"):
                    snap = _parse_batch_get(response, paths, self._client)
                    found[snap.reference._document_path] = snap
            return tx, found

        tx, found = _guard(get)
        return tx, [found.get(ref._document_path) for ref in refs]

    def _commit(self, fill: Any) -> list[Any]:
        """Commit the transaction with the writes `fill` adds to a batch; their write results."""
        batch = self._client.batch()
        fill(batch)
        tx, self._tx = self._tx, None
        request = {"database": self._client._database_string, "writes": batch._write_pbs, "transaction": tx}
        api = self._client._firestore_api
        response = _guard(
            lambda: api.commit(request=request, metadata=self._client._rpc_metadata, timeout=READ_TIMEOUT)
        )
        return list(response.write_results)

    def known_full(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        return self._limiter.known_full(rules, now)

    def write(self, seen: Seen, commit: Commit | None) -> bool:
        if commit is None or self._tx is None:
            self.close()
            return False
        self._commit(lambda batch: self._states.write_commit(batch, commit))
        return True

    def claim(self, doc: dict[str, Any], rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        takes = self._limiter.first_takes(rules)
        order: list[int] = []

        def fill(batch: Any) -> None:
            batch.create(self._message, doc)
            order.extend(self._limiter.add_writes(batch, takes, [], now))

        try:
            results = self._commit(fill)
        except (gexc.AlreadyExists, gexc.Conflict) as exc:  # another delivery claimed it first: retry
            raise BackendUnavailable(f"message {doc.get('message_id')} was claimed by another delivery") from exc
        values = self._limiter.values(order, results[1:], len(takes))
        return self._limiter.settle(takes, values, now, undo=lambda batch: batch.delete(self._message))

    def release(self) -> None:
        _guard(lambda: self._message.delete(timeout=READ_TIMEOUT))

    def finish(self, seen: Seen, commit: Commit | None, fields: dict[str, Any]) -> bool:
        def also(batch: Any) -> None:
            if fields:
                batch.update(self._message, fields)

        if commit is not None and self._states.change_seen(seen, commit, also=also):
            return True
        if fields:  # the outcome is written whatever the state does; the caller decides again
            _guard(lambda: self._message.update(fields, timeout=READ_TIMEOUT))
        return False

    def close(self) -> None:
        tx, self._tx = self._tx, None
        if tx is None:
            return
        request = {"database": self._client._database_string, "transaction": tx}
        try:
            _guard(
                lambda: self._client._firestore_api.rollback(
                    request=request, metadata=self._client._rpc_metadata, timeout=READ_TIMEOUT
                )
            )
        except Exception as exc:  # the server ends an abandoned transaction at its own timeout
            log.warning("send transaction not rolled back", extra={"error": str(exc)})


class FirestoreSendSteps:
    """Opens send transactions on the layouts of campaigns/firestore.py and suppressions/store.py."""

    def __init__(self, client: firestore.Client, states: FirestoreCampaignStates, limiter: FirestoreRateLimiter):
        self._client, self._states, self._limiter = client, states, limiter

    def open(
        self, tenant_id: str, ccid: str, sender_id: str, message_id: str, channel: Channel, address: str
    ) -> FirestoreSendStep:
        tenant = self._client.collection("tenants").document(tenant_id)
        refs = [
            *self._states.step_refs(tenant_id, ccid),
            tenant.collection("senders").document(sender_id),
            tenant.collection("campaign_config").document("limits"),
            tenant.collection("outbound_messages").document(message_id),
            tenant.collection("suppressions").document(address_key(channel, address)),
        ]
        return FirestoreSendStep(self._client, self._states, self._limiter, refs)


def _data(snap: Any) -> dict[str, Any] | None:
    return (snap.to_dict() or {}) if snap is not None and snap.exists else None
