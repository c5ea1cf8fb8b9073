"""Campaign state in Firestore (or its emulator).

Layout, all under `tenants/{t}/`: `contact_campaigns/{id}`, `scheduled_actions/{key}`,
`campaign_plan_versions/{sha256}`, `senders/{id}`, `ip_pools/{pool}`,
`campaign_config/limits`, `outbound_messages/{message_id}`, pause/stop controls in
`campaign_config/control` (the tenant) and `campaign_controls/{campaign}`; top level
`rate_buckets/{id}` (with `expires_at` for a TTL policy).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.limits import Counter, LimitsConfig, Rule, WarmupPool, take
from oie.campaigns.models import (
    Contact,
    ContactCampaign,
    Controls,
    ScheduledAction,
    ScopeControl,
    SenderIdentity,
    campaign_of,
)
from oie.campaigns.plan import Plan
from oie.campaigns.ports import Commit, Decide, MaySend

_EXISTS = (gexc.AlreadyExists, gexc.Conflict)


def _filter(field: str, op: str, value: Any) -> Any:
    return FieldFilter(field, op, value)  # type: ignore[no-untyped-call]


class _Tenanted:
    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _col(self, tenant_id: str, name: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection(name)


def _control(snap: Any) -> ScopeControl:
    return ScopeControl.model_validate(snap.to_dict()) if snap is not None and snap.exists else ScopeControl()


class FirestoreCampaignStates(_Tenanted):
    def _control_ref(self, tenant_id: str, campaign_id: str | None) -> Any:
        if campaign_id is None:
            return self._col(tenant_id, "campaign_config").document("control")
        return self._col(tenant_id, "campaign_controls").document(campaign_id)

    def _batch(self, get_all: Any, tenant_id: str, ccid: str, *extra: Any) -> tuple[Any, Controls, list[Any]]:
        """The state, the controls enclosing it and `extra` documents, in one batched read."""
        state_ref = self._col(tenant_id, "contact_campaigns").document(ccid)
        refs = [state_ref, self._control_ref(tenant_id, None), self._control_ref(tenant_id, campaign_of(ccid)), *extra]
        snaps = {snap.reference.path: snap for snap in get_all(refs)}
        found = [snaps.get(ref.path) for ref in refs]
        controls = Controls(tenant=_control(found[1]), campaign=_control(found[2]))
        return found[0], controls, found[3:]

    def read(self, tenant_id: str, ccid: str) -> tuple[ContactCampaign | None, Controls]:
        snap, controls, _ = _guard(
            lambda: self._batch(lambda r: self._client.get_all(r, timeout=READ_TIMEOUT), tenant_id, ccid)
        )
        state = ContactCampaign.model_validate(snap.to_dict()) if snap is not None and snap.exists else None
        return state, controls

    def get(self, tenant_id: str, ccid: str) -> ContactCampaign | None:
        snap = _guard(lambda: self._col(tenant_id, "contact_campaigns").document(ccid).get(timeout=READ_TIMEOUT))
        return ContactCampaign.model_validate(snap.to_dict()) if snap.exists else None

    def get_action(self, tenant_id: str, key: str) -> ScheduledAction | None:
        snap = _guard(lambda: self._col(tenant_id, "scheduled_actions").document(key).get(timeout=READ_TIMEOUT))
        return ScheduledAction.model_validate(snap.to_dict()) if snap.exists else None

    def create(self, state: ContactCampaign, action: ScheduledAction | None) -> bool:
        batch = self._client.batch()
        batch.create(
            self._col(state.tenant_id, "contact_campaigns").document(state.contact_campaign_id), state.model_dump()
        )
        if action is not None:
            batch.set(self._col(state.tenant_id, "scheduled_actions").document(action.key), action.model_dump())
        try:
            _guard(batch.commit)
        except _EXISTS:
            return False
        return True

    def change(self, tenant_id: str, ccid: str, action_key: str | None, decide: Decide) -> Commit | None:
        states, actions = self._col(tenant_id, "contact_campaigns"), self._col(tenant_id, "scheduled_actions")
        state_ref = states.document(ccid)
        extra = [actions.document(action_key)] if action_key else []

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> Commit | None:
            snap, controls, found = self._batch(transaction.get_all, tenant_id, ccid, *extra)
            action_snap = found[0] if found else None
            state = ContactCampaign.model_validate(snap.to_dict()) if snap is not None and snap.exists else None
            action = (
                ScheduledAction.model_validate(action_snap.to_dict()) if action_snap and action_snap.exists else None
            )
            commit = decide(state, action, controls)
            if commit is None:
                return None
            if state is None or commit.state.version != state.version:
                transaction.set(state_ref, commit.state.model_dump())
            if commit.new_action is not None:
                transaction.set(actions.document(commit.new_action.key), commit.new_action.model_dump())
            if commit.close is not None:
                key, status = commit.close
                transaction.set(actions.document(key), {"status": status, "closed_at": datetime.now(UTC)}, merge=True)
            return commit

        return _guard(lambda: run(self._client.transaction()))  # type: ignore[no-any-return]

    def claim(
        self, tenant_id: str, ccid: str, message_id: str, doc: dict[str, Any], may_send: MaySend
    ) -> tuple[bool, dict[str, Any] | None]:
        message_ref = self._col(tenant_id, "outbound_messages").document(message_id)

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> tuple[bool, dict[str, Any] | None]:
            snap, controls, (message,) = self._batch(transaction.get_all, tenant_id, ccid, message_ref)
            if message is not None and message.exists:
                return True, message.to_dict()  # an earlier claim decides, whatever changed since
            state = ContactCampaign.model_validate(snap.to_dict()) if snap is not None and snap.exists else None
            if not may_send(state, controls):
                return False, None
            transaction.create(message_ref, doc)
            return True, None

        return _guard(lambda: run(self._client.transaction()))  # type: ignore[no-any-return]

    def control(self, tenant_id: str, campaign_id: str | None) -> ScopeControl:
        return _control(_guard(lambda: self._control_ref(tenant_id, campaign_id).get(timeout=READ_TIMEOUT)))

    def set_control(
        self, tenant_id: str, campaign_id: str | None, decide: Callable[[ScopeControl], ScopeControl | None]
    ) -> tuple[ScopeControl, bool]:
        ref = self._control_ref(tenant_id, campaign_id)

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> tuple[ScopeControl, bool]:
            current = _control(ref.get(transaction=transaction))
            new = decide(current)
            if new is None:
                return current, False
            transaction.set(ref, new.model_dump())
            return new, True

        return _guard(lambda: run(self._client.transaction()))  # type: ignore[no-any-return]

    def held(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]:
        query = self._col(tenant_id, "contact_campaigns").where(filter=_filter("held", "==", True))
        if campaign_id is not None:
            query = query.where(filter=_filter("campaign_id", "==", campaign_id))
        docs = _guard(lambda: list(query.limit(limit).stream(timeout=30)))
        return [ContactCampaign.model_validate(d.to_dict()) for d in docs]

    def of_contact(
        self, tenant_id: str, *, lead_id: str | None = None, email: str | None = None
    ) -> list[ContactCampaign]:
        field, value = ("contact.lead_id", lead_id) if lead_id is not None else ("contact.email", email)
        query = self._col(tenant_id, "contact_campaigns").where(filter=_filter(field, "==", value)).limit(500)
        return [ContactCampaign.model_validate(d.to_dict()) for d in _guard(lambda: list(query.stream(timeout=30)))]

    def in_campaign(self, tenant_id: str, campaign_id: str | None, limit: int) -> list[ContactCampaign]:
        query = self._col(tenant_id, "contact_campaigns")
        if campaign_id:
            query = query.where(filter=_filter("campaign_id", "==", campaign_id))
        docs = _guard(lambda: list(query.limit(limit).stream(timeout=30)))
        return [ContactCampaign.model_validate(d.to_dict()) for d in docs]

    def overdue(self, before: datetime, limit: int) -> list[ScheduledAction]:
        # Needs a composite index (status, due_at) on the scheduled_actions collection group.
        query = (
            self._client.collection_group("scheduled_actions")
            .where(filter=_filter("status", "==", "scheduled"))
            .where(filter=_filter("due_at", "<", before))
            .limit(limit)
        )
        return [ScheduledAction.model_validate(d.to_dict()) for d in _guard(lambda: list(query.stream(timeout=30)))]


class FirestorePlanVersions(_Tenanted):
    def put(self, tenant_id: str, plan: Plan) -> tuple[str, bool]:
        version = plan.content_hash()
        doc = {"version": version, "plan": plan.model_dump(mode="json", by_alias=True), "created_at": datetime.now(UTC)}
        try:
            _guard(lambda: self._col(tenant_id, "campaign_plan_versions").document(version).create(doc))
        except _EXISTS:
            return version, False
        return version, True

    def get(self, tenant_id: str, version: str) -> Plan | None:
        ref = self._col(tenant_id, "campaign_plan_versions").document(version)
        snap = _guard(lambda: ref.get(timeout=READ_TIMEOUT))
        return Plan.model_validate((snap.to_dict() or {})["plan"]) if snap.exists else None


class FirestoreSenders(_Tenanted):
    def get(self, tenant_id: str, sender_id: str) -> SenderIdentity | None:
        snap = _guard(lambda: self._col(tenant_id, "senders").document(sender_id).get(timeout=READ_TIMEOUT))
        return SenderIdentity.model_validate(snap.to_dict()) if snap.exists else None

    def put(self, tenant_id: str, sender: SenderIdentity) -> None:
        _guard(lambda: self._col(tenant_id, "senders").document(sender.sender_id).set(sender.model_dump()))

    def remove(self, tenant_id: str, sender_id: str) -> None:
        _guard(lambda: self._col(tenant_id, "senders").document(sender_id).delete())

    def all(self, tenant_id: str) -> list[SenderIdentity]:
        docs = _guard(lambda: list(self._col(tenant_id, "senders").stream(timeout=READ_TIMEOUT)))
        return [SenderIdentity.model_validate(d.to_dict()) for d in docs]

    def limits(self, tenant_id: str) -> LimitsConfig:
        snap = _guard(lambda: self._col(tenant_id, "campaign_config").document("limits").get(timeout=READ_TIMEOUT))
        return LimitsConfig.model_validate(snap.to_dict()) if snap.exists else LimitsConfig()

    def put_limits(self, tenant_id: str, config: LimitsConfig) -> None:
        _guard(lambda: self._col(tenant_id, "campaign_config").document("limits").set(config.model_dump()))

    def warmup(self, tenant_id: str, pool: str) -> WarmupPool | None:
        snap = _guard(lambda: self._col(tenant_id, "ip_pools").document(pool).get(timeout=READ_TIMEOUT))
        return WarmupPool.model_validate(snap.to_dict()) if snap.exists else None

    def put_warmup(self, tenant_id: str, pool: WarmupPool) -> None:
        _guard(lambda: self._col(tenant_id, "ip_pools").document(pool.pool).set(pool.model_dump(mode="json")))


class FirestoreRateLimiter:
    """Token buckets in `rate_buckets`, all taken in one transaction (all or nothing)."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client
        self._col = client.collection("rate_buckets")

    def acquire(self, rules: Sequence[Rule], now: datetime) -> tuple[datetime, str] | None:
        refs = [(rule, self._col.document(rule.doc_id(random.randrange(rule.shards), now))) for rule in rules]

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> tuple[datetime, str] | None:
            snaps = [ref.get(transaction=transaction) for _, ref in refs]
            writes = []
            for (rule, ref), snap in zip(refs, snaps, strict=True):
                data = snap.to_dict() if snap.exists else None
                counter = Counter(float(data["tokens"]), data["updated_at"]) if data else None
                taken, retry_at = take(rule, counter, now)
                if retry_at is not None:
                    return retry_at, rule.key
                writes.append((ref, taken, rule))
            for ref, taken, rule in writes:
                keep = timedelta(days=2) if rule.kind == "daily" else rule.period * 2
                transaction.set(
                    ref,
                    {
                        "rule": rule.key,
                        "tokens": taken.tokens,
                        "updated_at": taken.updated_at,
                        "expires_at": now + keep,
                    },
                )
            return None

        return _guard(lambda: run(self._client.transaction()))  # type: ignore[no-any-return]


class FirestoreOutboundMessages(_Tenanted):
    def get(self, tenant_id: str, message_id: str) -> dict[str, Any] | None:
        snap = _guard(lambda: self._col(tenant_id, "outbound_messages").document(message_id).get(timeout=READ_TIMEOUT))
        return snap.to_dict() if snap.exists else None

    def claim(self, tenant_id: str, message_id: str, doc: dict[str, Any]) -> dict[str, Any] | None:
        ref = self._col(tenant_id, "outbound_messages").document(message_id)
        try:
            _guard(lambda: ref.create(doc))
        except _EXISTS:
            return self.get(tenant_id, message_id) or {"status": "queued", "created_at": doc["created_at"]}
        return None

    def update(self, tenant_id: str, message_id: str, fields: dict[str, Any]) -> None:
        _guard(lambda: self._col(tenant_id, "outbound_messages").document(message_id).update(fields))

    def release(self, tenant_id: str, message_id: str) -> None:
        _guard(lambda: self._col(tenant_id, "outbound_messages").document(message_id).delete())


class FirestoreContactSource(_Tenanted):
    """A campaign's contacts: its tracking links joined with their leads."""

    def _get_all(self, refs: list[Any]) -> list[Any]:
        return _guard(lambda: [s for s in self._client.get_all(refs, timeout=30) if s.exists])

    def contacts(self, tenant_id: str, campaign_id: str) -> Iterator[Contact]:
        links = (
            self._client.collection("links")
            .where(filter=_filter("tenant_id", "==", tenant_id))
            .where(filter=_filter("campaign_id", "==", campaign_id))
        )
        pairs = [(d.get("lead_id"), d.id) for d in _guard(lambda: list(links.stream(timeout=60)))]
        leads = self._col(tenant_id, "leads")
        for start in range(0, len(pairs), 300):
            chunk = pairs[start : start + 300]
            snaps = {s.id: s.to_dict() or {} for s in self._get_all([leads.document(lead_id) for lead_id, _ in chunk])}
            for lead_id, tracking_id in chunk:
                lead = snaps.get(lead_id)
                if not lead or not lead.get("email"):
                    continue
                yield Contact(
                    lead_id=lead_id,
                    email=lead["email"],
                    tracking_id=tracking_id,
                    first_name=lead.get("first_name", ""),
                    last_name=lead.get("last_name", ""),
                    company=lead.get("company", ""),
                    title=lead.get("title", ""),
                    timezone=(lead.get("attributes") or {}).get("timezone", ""),
                )
