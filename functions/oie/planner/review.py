"""The review queue: language-model plans a tenant wants to read before anything is sent.

`tenants/{t}/plan_reviews/{contact_campaign_id}`: status pending | approved | rejected, the
plan as planned, its copy per send node, the generation record, and who decided what and why.
Approving starts the contact (on the plan as planned or as edited); rejecting starts nothing.
A decision is taken once, in a transaction from pending: a second approve or reject is a no-op.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from google.cloud import firestore  # type: ignore[attr-defined]
from google.cloud.firestore_v1.base_query import FieldFilter
from pydantic import BaseModel, ConfigDict, Field

from oie.adapters.firestore_store import READ_TIMEOUT, _guard
from oie.campaigns.models import Contact, SenderIdentity
from oie.campaigns.plan import Plan, PlanInvalid, SendNode, parse_plan
from oie.errors import Conflict, InputError, NotFound
from oie.ports import Clock

ReviewStatus = Literal["pending", "approved", "rejected"]
MAX_LIST = 200


class NodeCopy(BaseModel):
    """What one send node (or one of its variants) says: the copy a reviewer reads."""

    model_config = ConfigDict(frozen=True)

    node_id: str
    variant_id: str = ""
    subject: str = ""
    text: str


class PlanReview(BaseModel):
    """One contact's planned campaign waiting for (or past) a reviewer's decision."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    contact_campaign_id: str
    campaign_id: str
    contact: Contact
    sender_ids: tuple[str, ...] = ()
    status: ReviewStatus = "pending"
    template_version: str = ""  # the tenant's template the plan was made from (an edit is checked against it)
    plan: Plan
    messages: tuple[NodeCopy, ...] = ()
    record: dict[str, Any] = Field(default_factory=dict)  # model, prompt version, input hash, tokens, cost
    analysis: Any = None  # the planner's lead analysis, as it gave it
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str = ""
    reason: str = ""
    approved_plan: Plan | None = None  # the plan the contact was started on
    edited: bool = False


def copy_of(plan: Plan) -> tuple[NodeCopy, ...]:
    """The subject and text of every send node and variant, in plan order."""
    found: list[NodeCopy] = []
    for node in plan.nodes:
        if not isinstance(node, SendNode):
            continue
        templates = [("", node.template)] if node.template is not None else []
        templates += [(v.id, v.template) for v in node.variants or ()]
        for variant_id, template in templates:
            subject = getattr(template, "subject", "")
            found.append(NodeCopy(node_id=node.id, variant_id=variant_id, subject=subject, text=template.text))
    return tuple(found)


class ReviewStore(Protocol):
    def add(self, review: PlanReview) -> bool:
        """Create the review; False when one exists for that contact campaign."""
        ...

    def get(self, tenant_id: str, ccid: str) -> PlanReview | None: ...

    def pending(self, tenant_id: str, limit: int) -> list[PlanReview]:
        """The tenant's pending reviews, newest first."""
        ...

    def decide(self, tenant_id: str, ccid: str, change: Callable[[PlanReview], PlanReview | None]) -> PlanReview | None:
        """Apply `change` to the stored review in one transaction (None: leave it); the review after."""
        ...


class CampaignStarter(Protocol):
    """The part of CampaignService a planned contact needs to start."""

    @property
    def senders(self) -> Any: ...  # oie.campaigns.ports.SenderStore

    def start_contact(
        self, tenant_id: str, campaign_id: str, contact: Contact, plan: Plan, senders: Sequence[SenderIdentity]
    ) -> bool: ...


# Guardrails the planner applies to a model's plan, applied again to a reviewer's edit:
# (tenant, edited plan, the review) -> problems as (field, message).
Guardrails = Callable[[str, Plan, PlanReview], list[tuple[str, str]]]


def senders_for(campaigns: CampaignStarter, tenant_id: str, sender_ids: Sequence[str]) -> list[SenderIdentity]:
    """The tenant's sender identities (only `sender_ids` when given); InputError when none is left."""
    senders = [s for s in campaigns.senders.all(tenant_id) if not sender_ids or s.sender_id in sender_ids]
    if not senders:
        raise InputError(f"tenant {tenant_id!r} has no sender identity to send from", field="sender")
    return senders


class ReviewResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    review: PlanReview
    changed: bool  # False: the decision had been taken before
    started: bool  # the contact's campaign was started by this call


@dataclass
class ReviewService:
    """Approve (optionally edited), reject and list the plans waiting for review."""

    store: ReviewStore
    campaigns: CampaignStarter
    clock: Clock
    guardrails: Guardrails = lambda tenant_id, plan, review: []

    def pending(self, tenant_id: str, limit: int = 50) -> list[PlanReview]:
        """The tenant's pending reviews, newest first, at most `limit` (and never more than MAX_LIST)."""
        if not 1 <= limit <= MAX_LIST:
            raise InputError(f"limit must be between 1 and {MAX_LIST}", field="limit")
        return self.store.pending(tenant_id, limit)

    def get(self, tenant_id: str, ccid: str) -> PlanReview:
        review = self.store.get(tenant_id, ccid)
        if review is None:
            raise NotFound(f"no plan review {ccid!r}", field="contact_campaign_id")
        return review

    def approve(self, tenant_id: str, ccid: str, by: str, edited: dict[str, Any] | None = None) -> ReviewResult:
        """Approve and start the contact, on `edited` when given (validated like any plan); once."""
        review = self.get(tenant_id, ccid)
        if review.status == "rejected":
            raise Conflict(f"plan review {ccid} was rejected by {review.decided_by}", field="status")
        plan = review.plan
        if review.status == "pending" and edited is not None:
            plan = parse_plan(edited)
            problems = self.guardrails(tenant_id, plan, review)
            if problems:
                raise PlanInvalid(problems)
        now, applied = self.clock.now(), [False]

        def approve_pending(current: PlanReview) -> PlanReview | None:
            applied[0] = current.status == "pending"  # a transaction may run this more than once
            if not applied[0]:
                return None
            changes = {"status": "approved", "decided_at": now, "decided_by": by, "approved_plan": plan}
            return current.model_copy(update={**changes, "edited": plan != current.plan})

        after = self.store.decide(tenant_id, ccid, approve_pending)
        if after is None or after.status == "rejected":
            raise Conflict(f"plan review {ccid} was rejected meanwhile", field="status")
        # Started after the approval is stored: a start that failed is made by approving again.
        started = self.campaigns.start_contact(
            tenant_id,
            after.campaign_id,
            after.contact,
            after.approved_plan or after.plan,
            senders_for(self.campaigns, tenant_id, after.sender_ids),
        )
        return ReviewResult(review=after, changed=applied[0], started=started)

    def reject(self, tenant_id: str, ccid: str, by: str, reason: str) -> ReviewResult:
        """Reject: nothing is started; who and why are kept. Rejecting an approved plan is refused."""
        if not reason.strip() or len(reason) > 1000:
            raise InputError("a rejection needs a reason (at most 1000 characters)", field="reason")
        review = self.get(tenant_id, ccid)
        if review.status == "approved":
            raise Conflict(f"plan review {ccid} was approved by {review.decided_by}", field="status")
        now, applied = self.clock.now(), [False]

        def reject_pending(current: PlanReview) -> PlanReview | None:
            applied[0] = current.status == "pending"
            if not applied[0]:
                return None
            return current.model_copy(
                update={"status": "rejected", "decided_at": now, "decided_by": by, "reason": reason}
            )

        after = self.store.decide(tenant_id, ccid, reject_pending)
        if after is None or after.status == "approved":
            raise Conflict(f"plan review {ccid} was approved meanwhile", field="status")
        return ReviewResult(review=after, changed=applied[0], started=False)


def _doc(review: PlanReview) -> dict[str, Any]:
    doc = review.model_dump(mode="json", by_alias=True)
    # Timestamps stay timestamps, so "newest first" is Firestore's own order.
    doc["created_at"], doc["decided_at"] = review.created_at, review.decided_at
    return doc


class FirestorePlanReviews:
    """ReviewStore on `tenants/{t}/plan_reviews/{contact_campaign_id}`."""

    def __init__(self, client: firestore.Client) -> None:
        self._client = client

    def _col(self, tenant_id: str) -> Any:
        return self._client.collection("tenants").document(tenant_id).collection("plan_reviews")

    def add(self, review: PlanReview) -> bool:
        from google.api_core import exceptions as gexc

        ref = self._col(review.tenant_id).document(review.contact_campaign_id)
        try:
            _guard(lambda: ref.create(_doc(review)))
        except (gexc.AlreadyExists, gexc.Conflict):
            return False
        return True

    def get(self, tenant_id: str, ccid: str) -> PlanReview | None:
        snap = _guard(lambda: self._col(tenant_id).document(ccid).get(timeout=READ_TIMEOUT))
        return PlanReview.model_validate(snap.to_dict()) if snap.exists else None

    def pending(self, tenant_id: str, limit: int) -> list[PlanReview]:
        query = (
            self._col(tenant_id)
            .where(filter=FieldFilter("status", "==", "pending"))  # type: ignore[no-untyped-call]
            .order_by("created_at", direction=firestore.Query.DESCENDING)
            .limit(limit)
        )
        return [PlanReview.model_validate(d.to_dict()) for d in _guard(lambda: list(query.stream(timeout=30)))]

    def decide(self, tenant_id: str, ccid: str, change: Callable[[PlanReview], PlanReview | None]) -> PlanReview | None:
        ref = self._col(tenant_id).document(ccid)

        @firestore.transactional  # type: ignore[misc]
        def run(transaction: Any) -> PlanReview | None:
            snap = ref.get(transaction=transaction)
            if not snap.exists:
                return None
            current = PlanReview.model_validate(snap.to_dict())
            after = change(current)
            if after is None:
                return current
            transaction.set(ref, _doc(after))
            return after

        result: PlanReview | None = _guard(lambda: run(self._client.transaction()))
        return result
