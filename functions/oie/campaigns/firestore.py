"""Campaign state in Firestore (or its emulator).

Layout, all under `tenants/{t}/`: `contact_campaigns/{id}`, `scheduled_actions/{key}`,
`campaign_plan_versions/{sha256}`, `senders/{id}`, `ip_pools/{pool}`,
`campaign_config/limits`, `outbound_messages/{message_id}`, pause/stop controls in
`campaign_config/control` (the tenant) and `campaign_controls/{campaign}`, A/B/n winners in
`campaign_experiments/{campaign}__{node}`; top level
`rate_buckets/{id}` (with `expires_at` for a TTL policy; oie.campaigns.limits_firestore).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from google.api_core import exceptions as gexc
from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter

from oie.adapters import firestore_writes as writes
from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.limits import LimitsConfig, WarmupPool
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
from oie.campaigns.ports import Commit, Decide, Seen

_EXISTS = (gexc.AlreadyExists, gexc.Conflict)
CREATE_CHUNK = 250  # two writes a start (state, first step): Firestore takes 500 writes a commit
COMMITS_IN_FLIGHT = 4  # batches committed at once by create_many: about twice one batch at a time
LINK_PAGE = 5000  # links a query page when listing a campaign: the emulator scans the collection for each
READS_IN_FLIGHT = 4  # batched lead reads at once when listing a campaign's contacts
_CONTACT_FIELDS = ("email", "first_name", "last_name", "company", "title", "attributes.timezone")


def _filter(field: str, op: str, value: Any) -> Any:
    return FieldFilter(field, op, value)  # type: ignore[no-untyped-call]


def _sparse_state(state: ContactCampaign) -> dict[str, Any]:
    """A new state without the fields still at their defaults (read back, the model fills them in).

    A start's state leaves about half its fields at the default: storing them cost the emulator a
    third of a start's commits (and production an index entry each). Fields a query filters on stay.
    """
    return state.model_dump(exclude_defaults=True) | {"held": state.held, "status": state.status}


def _sparse_action(action: ScheduledAction) -> dict[str, Any]:
    """A new step without its default fields; `status` stays (`overdue` filters on it)."""
    return action.model_dump(exclude_defaults=True) | {"status": action.status}


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

    def read(self, tenant_id: str, ccid: str) -> Seen:
        snap, controls, _ = _guard(
            lambda: self._batch(lambda r: self._client.get_all(r, timeout=READ_TIMEOUT), tenant_id, ccid)
        )
        if snap is None or not snap.exists:
            return Seen(None, controls)
        return Seen(ContactCampaign.model_validate(snap.to_dict()), controls, token=snap.update_time)

    def read_step(self, tenant_id: str, ccid: str, key: str) -> Seen:
        """`read`, with the step's scheduled action in the same batched read."""
        action_ref = self._col(tenant_id, "scheduled_actions").document(key)
        snap, controls, (action,) = _guard(
            lambda: self._batch(lambda r: self._client.get_all(r, timeout=READ_TIMEOUT), tenant_id, ccid, action_ref)
        )
        found = ScheduledAction.model_validate(action.to_dict()) if action is not None and action.exists else None
        if snap is None or not snap.exists:
            return Seen(None, controls, action=found, action_read=True)
        state = ContactCampaign.model_validate(snap.to_dict())
        return Seen(state, controls, token=snap.update_time, action=found, action_read=True)

    def step_refs(self, tenant_id: str, ccid: str) -> list[Any]:
        """The state and the controls enclosing it, in the order `parse_step` reads them."""
        return [
            self._col(tenant_id, "contact_campaigns").document(ccid),
            self._control_ref(tenant_id, None),
            self._control_ref(tenant_id, campaign_of(ccid)),
        ]

    @staticmethod
    def parse_step(snaps: Sequence[Any]) -> Seen:
        """A `Seen` from the snapshots of `step_refs`, read in a transaction or a batch."""
        state, tenant, campaign = snaps
        controls = Controls(tenant=_control(tenant), campaign=_control(campaign))
        if state is None or not state.exists:
            return Seen(None, controls)
        return Seen(ContactCampaign.model_validate(state.to_dict()), controls, token=state.update_time)

    def write_commit(self, writer: Any, commit: Commit) -> None:
        """The state and the steps of `commit` into a transaction (no precondition needed there)."""
        ref = self._col(commit.state.tenant_id, "contact_campaigns").document(commit.state.contact_campaign_id)
        writer.set(ref, commit.state.model_dump())
        self._write_actions(writer, commit.state.tenant_id, commit)

    def change_seen(self, seen: Seen, commit: Commit, also: Callable[[Any], None] | None = None) -> bool:
        """`also` adds writes to the same batch (a send's outcome): all of them, or none, are written."""
        if seen.state is None or seen.token is None or commit.state.version == seen.state.version:
            return False
        tenant_id, ccid = seen.state.tenant_id, seen.state.contact_campaign_id
        batch = self._client.batch()
        # An update, not a set: only an update takes a precondition. It writes every field.
        unchanged = self._client.write_option(last_update_time=seen.token)
        state_ref = self._col(tenant_id, "contact_campaigns").document(ccid)
        batch.update(state_ref, commit.state.model_dump(), option=unchanged)
        self._write_actions(batch, tenant_id, commit)
        if also is not None:
            also(batch)
        try:
            _guard(lambda: batch.commit(timeout=READ_TIMEOUT))
        except (gexc.FailedPrecondition, gexc.NotFound):
            return False  # changed (or gone) since it was read: the caller decides again in a transaction
        return True

    def _write_actions(self, writer: Any, tenant_id: str, commit: Commit) -> None:
        """The step a commit schedules and the step it closes, into a transaction or a batch."""
        actions = self._col(tenant_id, "scheduled_actions")
        if commit.new_action is not None:
            writer.set(actions.document(commit.new_action.key), commit.new_action.model_dump())
        if commit.close is not None:
            key, status = commit.close
            writer.set(actions.document(key), {"status": status, "closed_at": datetime.now(UTC)}, merge=True)

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

    def create_many(
        self, starts: Sequence[tuple[ContactCampaign, ScheduledAction | None]]
    ) -> list[ContactCampaign | None]:
        """Batches of 250 starts (500 writes), a few committed at once: the emulator and Firestore overlap them.

        A batch is atomic: one state that exists already refuses it whole, and then its chunk is read.
        """
        chunks = [starts[n : n + CREATE_CHUNK] for n in range(0, len(starts), CREATE_CHUNK)]
        if not chunks:
            return []
        first = self._create_chunk(chunks[0], read_first=False)
        # A re-run finds most contacts stored: reading first spares the emulator a refused batch each.
        read_first = any(found is not None for found in first)
        with ThreadPoolExecutor(COMMITS_IN_FLIGHT) as pool:
            rest = pool.map(lambda chunk: self._create_chunk(chunk, read_first=read_first), chunks[1:])
            return first + [found for part in rest for found in part]

    def _create_chunk(
        self, chunk: Sequence[tuple[ContactCampaign, ScheduledAction | None]], *, read_first: bool
    ) -> list[ContactCampaign | None]:
        refs = [self._col(s.tenant_id, "contact_campaigns").document(s.contact_campaign_id) for s, _ in chunk]
        if not read_first and self._commit_creates([(s, a, ref) for (s, a), ref in zip(chunk, refs, strict=True)]):
            return [None] * len(chunk)
        # Some exist (a re-run, or another start): the batch wrote nothing. Read them, create the rest.
        snaps = _guard(lambda: list(self._client.get_all(refs, timeout=READ_TIMEOUT * 4)))
        found = {snap.reference.path: snap for snap in snaps if snap.exists}
        existing = [
            ContactCampaign.model_validate(found[ref.path].to_dict()) if ref.path in found else None for ref in refs
        ]
        missing = [(s, a, ref) for (s, a), ref, was in zip(chunk, refs, existing, strict=True) if was is None]
        if not missing or self._commit_creates(missing):
            return existing
        return [  # created since the read, too (rare): one by one
            was if was is not None or self.create(s, a) else self.get(s.tenant_id, s.contact_campaign_id)
            for (s, a), was in zip(chunk, existing, strict=True)
        ]

    def _commit_creates(self, creates: Sequence[tuple[ContactCampaign, ScheduledAction | None, Any]]) -> bool:
        """Create the states (each with its step) in one atomic batch; False, nothing written, if one exists."""
        batch = self._client.batch()
        for state, action, ref in creates:
            writes.add_create(batch, ref, _sparse_state(state))
            if action is not None:
                actions = self._col(state.tenant_id, "scheduled_actions")
                writes.add_set(batch, actions.document(action.key), _sparse_action(action))
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
            self._write_actions(transaction, tenant_id, commit)
            return commit

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


class FirestoreExperiments(_Tenanted):
    """`campaign_experiments/{campaign}__{node}`: {campaign_id, node_id, winner, details, decided_at}."""

    def _ref(self, tenant_id: str, campaign_id: str, node_id: str) -> Any:
        return self._col(tenant_id, "campaign_experiments").document(f"{campaign_id}__{node_id}")

    def winner(self, tenant_id: str, campaign_id: str, node_id: str) -> str | None:
        snap = _guard(lambda: self._ref(tenant_id, campaign_id, node_id).get(timeout=READ_TIMEOUT))
        winner = (snap.to_dict() or {}).get("winner") if snap.exists else None
        return str(winner) if winner else None

    def set_winner(
        self, tenant_id: str, campaign_id: str, node_id: str, variant_id: str, details: dict[str, Any]
    ) -> bool:
        ref = self._ref(tenant_id, campaign_id, node_id)
        doc = {
            "campaign_id": campaign_id,
            "node_id": node_id,
            "winner": variant_id,
            "details": details,
            "decided_at": datetime.now(UTC),
        }

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> bool:
            snap = ref.get(transaction=transaction)
            if snap.exists and (snap.to_dict() or {}).get("winner"):
                return False  # the first winner stays: a later, noisier verdict never flips it
            transaction.set(ref, doc)
            return True

        return _guard(lambda: run(self._client.transaction()))  # type: ignore[no-any-return]


class FirestoreContactSource(_Tenanted):
    """A campaign's contacts: its tracking links joined with their leads."""

    def _get_all(self, refs: list[Any]) -> list[Any]:
        # Only the fields a Contact takes: a lead carries every column of its CSV, decoded at a cost.
        return _guard(
            lambda: [s for s in self._client.get_all(refs, field_paths=_CONTACT_FIELDS, timeout=30) if s.exists]
        )

    def contacts(self, tenant_id: str, campaign_id: str) -> Iterator[Contact]:
        """Page through the campaign's links by id (memory stays flat), fetching their leads in batches."""
        links = (
            self._client.collection("links")
            .where(filter=_filter("tenant_id", "==", tenant_id))
            .where(filter=_filter("campaign_id", "==", campaign_id))
            .select(["lead_id"])
            .order_by("__name__")
            .limit(LINK_PAGE)
        )

        def page(after: Any) -> list[Any]:
            query = links.start_after(after) if after is not None else links
            return _guard(lambda: list(query.stream(timeout=60)))

        def joined(docs: list[Any]) -> list[Contact]:
            return list(self._joined(tenant_id, [(d.get("lead_id"), d.id) for d in docs]))

        # A page's lead reads in flight together (each waits on the database); the page queries one
        # at a time: the emulator scans the links for each, and one beside the reads can pass its deadline.
        with ThreadPoolExecutor(READS_IN_FLIGHT) as pool:
            last: Any = None
            while True:
                docs = page(last)
                for contacts in pool.map(joined, [docs[n : n + 300] for n in range(0, len(docs), 300)]):
                    yield from contacts
                if len(docs) < LINK_PAGE:
                    return
                last = docs[-1]

    def _joined(self, tenant_id: str, pairs: list[tuple[str, str]]) -> Iterator[Contact]:
        leads = self._col(tenant_id, "leads")
        snaps = {s.id: s.to_dict() or {} for s in self._get_all([leads.document(lead_id) for lead_id, _ in pairs])}
        for lead_id, tracking_id in pairs:
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
