"""Firestore (or its emulator) behind the store ports.

Layout: `tenants/{t}`, `tenants/{t}/campaigns/{c}`, `tenants/{t}/leads/{lead}`,
`links/{tracking_id}` (top level: `/go` knows only the id), `spooled_clicks/{click_id}`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie.adapters import firestore_writes as writes
from oie.adapters.gapic_deadlines import bound_transport
from oie.errors import BackendUnavailable
from oie.links.models import Campaign, LeadRecord, Link
from oie.ports import Row
from oie.tenants.models import Tenant

T = TypeVar("T")
S = TypeVar("S")
# Faults worth a retry. Aborted is contention: a transaction that lost a race for a
# document (a shared rate bucket, a lead's state) after the client's own retries.
_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.RetryError,
    gexc.TooManyRequests,
    gexc.Aborted,
)
READ_TIMEOUT = 5.0
BATCH_LIMIT = 400
COMMITS_IN_FLIGHT = 4  # batches committed at once: about twice the rate of one at a time


def _guard(call: Callable[[], T]) -> T:
    """Run a Firestore call, turning transient faults into BackendUnavailable."""
    try:
        return call()
    except (gexc.DeadlineExceeded, gexc.RetryError) as exc:
        raise BackendUnavailable("the database did not answer in time; try again shortly") from exc
    except _TRANSIENT as exc:
        raise BackendUnavailable(f"the database is unavailable ({exc}); try again shortly") from exc
    except ValueError as exc:
        # google-cloud-firestore's transactional retries end in a ValueError once a
        # contended transaction has failed every attempt: contention, so worth a retry.
        if str(exc).startswith("Failed to commit transaction"):
            raise BackendUnavailable(f"firestore: {exc}") from exc
        raise


def _in_parallel(work: Callable[[S], T], chunks: Sequence[S]) -> list[T]:
    """Run `work` over batches, COMMITS_IN_FLIGHT at a time: Firestore (and its emulator) overlap commits."""
    if len(chunks) <= 1:
        return [work(chunk) for chunk in chunks]
    with ThreadPoolExecutor(min(len(chunks), COMMITS_IN_FLIGHT)) as pool:
        return list(pool.map(work, chunks))


def make_client(project: str, database: str) -> firestore.Client:
    """A Firestore client whose every call ends within its budget (oie.deadlines).

    It talks to the emulator when FIRESTORE_EMULATOR_HOST is set.
    """
    client = firestore.Client(project=project, database=database)
    # The generated defaults retry for 60-300 s (86400 s for listen) whatever call sites pass.
    bound_transport(client._firestore_api._transport, "firestore")
    return client


class FirestoreTenants:
    def __init__(self, client: firestore.Client) -> None:
        self._col = client.collection("tenants")

    def get(self, tenant_id: str) -> Tenant | None:
        snap = _guard(lambda: self._col.document(tenant_id).get(timeout=READ_TIMEOUT))
        return Tenant.model_validate(snap.to_dict()) if snap.exists else None

    def put(self, tenant: Tenant) -> None:
        _guard(lambda: self._col.document(tenant.tenant_id).set(tenant.model_dump(mode="json")))

    def find_by_go_host(self, host: str) -> Tenant | None:
        return self._find("go_hosts", host.lower())

    def find_by_origin(self, origin: str) -> Tenant | None:
        return self._find("allowed_origins", origin.lower())

    def all(self) -> list[Tenant]:
        return [Tenant.model_validate(d.to_dict()) for d in _guard(lambda: list(self._col.stream(timeout=30)))]

    def _find(self, field: str, value: str) -> Tenant | None:
        query = self._col.where(filter=FieldFilter(field, "array_contains", value)).limit(1)
        docs = _guard(lambda: list(query.stream(timeout=READ_TIMEOUT)))
        return Tenant.model_validate(docs[0].to_dict()) if docs else None


class FirestoreLinks:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._col = client.collection("links")

    def get(self, tracking_id: str) -> Link | None:
        snap = _guard(lambda: self._col.document(tracking_id).get(timeout=READ_TIMEOUT))
        return Link.model_validate(snap.to_dict()) if snap.exists else None

    def get_many(self, tracking_ids: Sequence[str]) -> dict[str, Link]:
        refs = [self._col.document(i) for i in dict.fromkeys(tracking_ids)]
        snaps = _guard(lambda: list(self._client.get_all(refs, timeout=READ_TIMEOUT * 4)))
        return {s.id: Link.model_validate(s.to_dict()) for s in snaps if s.exists}

    def create_many(self, links: Sequence[Link]) -> list[str]:
        chunks = [links[start : start + BATCH_LIMIT] for start in range(0, len(links), BATCH_LIMIT)]
        return [tracking_id for existed in _in_parallel(self._create_chunk, chunks) for tracking_id in existed]

    def _create_chunk(self, chunk: Sequence[Link]) -> list[str]:
        batch = self._client.batch()
        for link in chunk:
            writes.add_create(batch, self._col.document(link.tracking_id), link.model_dump(mode="json"))
        try:
            _guard(batch.commit)
        except (gexc.AlreadyExists, gexc.Conflict):
            # Another import got there first for some id (the batch wrote nothing): one by one to learn which.
            existed: list[str] = []
            for link in chunk:
                try:
                    self._create_one(link)
                except (gexc.AlreadyExists, gexc.Conflict):
                    existed.append(link.tracking_id)
            return existed
        return []

    def _create_one(self, link: Link) -> None:
        _guard(lambda: self._col.document(link.tracking_id).create(link.model_dump(mode="json")))


class FirestoreLeads:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def get(self, tenant_id: str, lead_id: str) -> LeadRecord | None:
        doc = self._client.collection("tenants").document(tenant_id).collection("leads").document(lead_id)
        snap = _guard(lambda: doc.get(timeout=READ_TIMEOUT))
        if not snap.exists:
            return None
        return LeadRecord.model_validate(
            {k: v for k, v in (snap.to_dict() or {}).items() if k in LeadRecord.model_fields}
        )

    def upsert_many(self, tenant_id: str, leads: Sequence[tuple[str, LeadRecord]]) -> None:
        col = self._client.collection("tenants").document(tenant_id).collection("leads")
        now = datetime.now(UTC)

        def commit(chunk: Sequence[tuple[str, LeadRecord]]) -> None:
            batch = self._client.batch()
            for lead_id, lead in chunk:
                data: dict[str, Any] = lead.model_dump(exclude={"lines"}, exclude_defaults=True)
                data.update({"lead_id": lead_id, "tenant_id": tenant_id, "updated_at": now})
                writes.add_set(batch, col.document(lead_id), data, merge=True)
            _guard(batch.commit)

        _in_parallel(commit, [leads[start : start + BATCH_LIMIT] for start in range(0, len(leads), BATCH_LIMIT)])


class FirestoreProfiles:
    """`tenants/{t}/profiles/{lead_id}`: what personalization may show, merged field by field."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _col(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("profiles")

    def get(self, tenant_id: str, lead_id: str) -> dict[str, Any] | None:
        snap = _guard(lambda: self._col(tenant_id).document(lead_id).get(timeout=READ_TIMEOUT))
        return snap.to_dict() if snap.exists else None

    def upsert_many(self, tenant_id: str, profiles: Sequence[tuple[str, dict[str, Any]]]) -> None:
        col = self._col(tenant_id)

        def commit(chunk: Sequence[tuple[str, dict[str, Any]]]) -> None:
            batch = self._client.batch()
            for lead_id, fields in chunk:
                writes.add_set(batch, col.document(lead_id), fields, merge=True)
            _guard(batch.commit)

        _in_parallel(commit, [profiles[start : start + BATCH_LIMIT] for start in range(0, len(profiles), BATCH_LIMIT)])


class FirestoreCampaigns:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _doc(self, tenant_id: str, campaign_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("campaigns").document(campaign_id)

    def put(self, campaign: Campaign) -> None:
        _guard(lambda: self._doc(campaign.tenant_id, campaign.campaign_id).set(campaign.model_dump(mode="json")))

    def get(self, tenant_id: str, campaign_id: str) -> Campaign | None:
        snap = _guard(lambda: self._doc(tenant_id, campaign_id).get(timeout=READ_TIMEOUT))
        return Campaign.model_validate(snap.to_dict()) if snap.exists else None


class FirestoreClickSpool:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._col = client.collection("spooled_clicks")

    def add(self, row: Row, *, row_id: str) -> None:
        _guard(lambda: self._col.document(row_id).set(dict(row), timeout=READ_TIMEOUT))

    def take(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        docs = _guard(lambda: list(self._col.limit(limit).stream(timeout=READ_TIMEOUT * 4)))
        return [(d.id, d.to_dict() or {}) for d in docs]

    def remove(self, row_ids: Iterable[str]) -> None:
        batch = self._client.batch()
        for row_id in row_ids:
            batch.delete(self._col.document(row_id))
        _guard(batch.commit)


class FirestoreAlertMarkers:
    """`alert_markers/{key}`: state pending | sent | failed, with the payload for retries."""

    MAX_ATTEMPTS = 10

    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._col = client.collection("alert_markers")

    def claim(self, key: str, payload: dict[str, Any]) -> bool:
        ref = self._col.document(key)

        @firestore.transactional  # type: ignore[misc]
        def claim_in(transaction: Any) -> bool:
            snap = ref.get(transaction=transaction)
            state = (snap.to_dict() or {}).get("state") if snap.exists else None
            if state == "sent":
                return False
            attempts = int((snap.to_dict() or {}).get("attempts", 0)) if snap.exists else 0
            transaction.set(
                ref, {"state": "pending", "payload": payload, "attempts": attempts + 1, "updated_at": datetime.now(UTC)}
            )
            return True

        return bool(_guard(lambda: claim_in(self._client.transaction())))

    def settle(self, key: str, sent: bool, error: str = "") -> None:
        _guard(
            lambda: self._col.document(key).update(
                {"state": "sent" if sent else "failed", "error": error[:500], "updated_at": datetime.now(UTC)}
            )
        )

    def failed(self, limit: int) -> list[tuple[str, dict[str, Any]]]:
        query = self._col.where(filter=FieldFilter("state", "==", "failed")).limit(limit)
        docs = _guard(lambda: list(query.stream(timeout=READ_TIMEOUT)))
        return [
            (d.id, (d.to_dict() or {})["payload"])
            for d in docs
            if int((d.to_dict() or {}).get("attempts", 0)) < self.MAX_ATTEMPTS
        ]
