"""oie.campaigns.send_reads.SendReads on Firestore: four documents in one batched get."""

from __future__ import annotations

from typing import Any

from google.cloud import firestore  # type: ignore[attr-defined]

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.limits import LimitsConfig
from oie.campaigns.models import SenderIdentity
from oie.campaigns.send_reads import SendInputs
from oie.suppressions.models import Channel, address_key


class FirestoreSendReads:
    """`senders/{id}`, `campaign_config/limits`, `outbound_messages/{id}` and `suppressions/{key}`
    under `tenants/{t}/` (the layouts of campaigns/firestore.py and suppressions/store.py)."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def read(self, tenant_id: str, sender_id: str, message_id: str, channel: Channel, address: str) -> SendInputs:
        tenant = self._client.collection("tenants").document(tenant_id)
        refs = [
            tenant.collection("senders").document(sender_id),
            tenant.collection("campaign_config").document("limits"),
            tenant.collection("outbound_messages").document(message_id),
            tenant.collection("suppressions").document(address_key(channel, address)),
        ]
        snaps = _guard(lambda: {s.reference.path: s for s in self._client.get_all(refs, timeout=READ_TIMEOUT)})
        sender, limits, message, suppression = (self._data(snaps.get(ref.path)) for ref in refs)
        return SendInputs(
            sender=SenderIdentity.model_validate(sender) if sender is not None else None,
            limits=LimitsConfig.model_validate(limits) if limits is not None else LimitsConfig(),
            message=message,
            suppressed=suppression is not None,
        )

    @staticmethod
    def _data(snap: Any) -> dict[str, Any] | None:
        return (snap.to_dict() or {}) if snap is not None and snap.exists else None
