"""Planning as Cloud Tasks: one task per contact on queue CAMPAIGN_PLANNING, paced by the queue.

`start` stores the tenant's template plan once, then enqueues a task per contact named from
(tenant, campaign, lead), so running it again adds nothing; it returns once the tasks are
queued, never waiting for a plan. `run` (the `campaign_plan` handler's service) plans one
contact with the language-model planner, then starts it, or queues it for review when the
tenant reviews AI plans first. A contact already started or in review is never planned again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from oie import queues
from oie.campaigns.models import Contact, contact_campaign_id
from oie.campaigns.plan import Plan, validate_plan
from oie.errors import Conflict, NotFound
from oie.logs import get_logger
from oie.planner.review import CampaignStarter, PlanReview, ReviewStore, copy_of, senders_for
from oie.ports import Clock, Task, TaskQueue

log = get_logger(__name__)
FUNCTION = "campaign_plan"
# Cloud Tasks has no batch create: tasks are created by this many calls in parallel, in
# chunks, so 100,000 contacts are never all in memory as tasks at once.
ENQUEUE_WORKERS = 16
CHUNK = 512
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class PlanningPayload(BaseModel):
    """What a `campaign_plan` task carries: who to plan, in which campaign, from which template."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["plan"] = "plan"
    tenant_id: str = Field(min_length=1, max_length=64)
    campaign_id: str = Field(min_length=1, max_length=64)
    template_version: str = Field(pattern=r"^[0-9a-f]{64}$")
    contact: Contact
    sender_ids: tuple[str, ...] = Field(default=(), max_length=50)
    requested_at: datetime


class Planned(Protocol):
    """What the language-model planner answers for one contact (oie.planner's PlannedContact)."""

    @property
    def plan(self) -> Plan: ...

    @property
    def record(self) -> Any: ...

    @property
    def analysis(self) -> Any: ...


class ContactPlanner(Protocol):
    def plan_contact(self, tenant_id: str, campaign_id: str, contact: Contact, template: Plan) -> Planned: ...


class ReviewFlag(Protocol):
    @property
    def review_ai_plans(self) -> bool: ...


class PlannerConfigs(Protocol):
    def get(self, tenant_id: str) -> ReviewFlag: ...


class Campaigns(CampaignStarter, Protocol):
    """CampaignService as planning sees it: states, plan versions, senders, contacts, start."""

    @property
    def states(self) -> Any: ...  # oie.campaigns.ports.CampaignStates

    @property
    def plans(self) -> Any: ...  # oie.campaigns.ports.PlanVersions

    @property
    def contacts(self) -> Any: ...  # oie.campaigns.ports.ContactSource

    @property
    def tenants(self) -> Any: ...


def task_name(tenant_id: str, campaign_id: str, lead_id: str) -> str:
    """The task's name: the same contact of the same campaign always gets the same one.

    The hash makes it exact (and spreads names, as Cloud Tasks recommends); the tail is for people.
    """
    digest = hashlib.sha256(f"{tenant_id}\x00{campaign_id}\x00{lead_id}".encode()).hexdigest()[:32]
    tail = _UNSAFE.sub("-", f"{campaign_id}-{lead_id}")
    return f"plan-{digest}-{tail}"[:500]


class EnqueueReport(BaseModel):
    campaign_id: str
    template_version: str
    enqueued: int = 0
    already_enqueued: int = 0


def _value(part: Any) -> Any:
    """The planner's record or analysis as plain JSON-able data, whatever model it comes as."""
    if isinstance(part, BaseModel):
        return part.model_dump(mode="json")
    if dataclasses.is_dataclass(part) and not isinstance(part, type):
        return json.loads(json.dumps(dataclasses.asdict(part), default=str))
    return part


def _record(record: Any) -> dict[str, Any]:
    value = _value(record)
    if not isinstance(value, dict):
        return {}
    value.pop("plan_json", None)  # the review keeps the plan itself
    return value


@dataclass
class PlanningTasks:
    """Enqueue planning for a campaign's contacts, and run one contact's planning task."""

    campaigns: Campaigns
    planner: ContactPlanner
    configs: PlannerConfigs
    reviews: ReviewStore
    tasks: TaskQueue
    clock: Clock
    workers: int = ENQUEUE_WORKERS
    _templates: dict[tuple[str, str], Plan] = field(default_factory=dict)  # by content hash: never stale

    def _refuse_stopped(self, tenant_id: str, campaign_id: str) -> None:
        for scope in (None, campaign_id):
            if self.campaigns.states.control(tenant_id, scope).state == "stopped":
                raise Conflict(f"{'campaign ' + campaign_id if scope else 'the tenant'} was stopped", field="campaign")

    def start(
        self,
        tenant_id: str,
        campaign_id: str,
        template: Plan,
        sender_ids: Sequence[str] = (),
        contacts: Iterable[Contact] | None = None,
        progress: Callable[[int], None] = lambda n: None,
    ) -> EnqueueReport:
        """Enqueue one planning task per contact (default: every lead imported into the campaign)."""
        if self.campaigns.tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        self._refuse_stopped(tenant_id, campaign_id)
        senders_for(self.campaigns, tenant_id, sender_ids)
        validate_plan(template)
        version, _ = self.campaigns.plans.put(tenant_id, template)
        report = EnqueueReport(campaign_id=campaign_id, template_version=version)
        now = self.clock.now()
        source = self.campaigns.contacts.contacts(tenant_id, campaign_id) if contacts is None else contacts

        def task_for(contact: Contact) -> Task:
            payload = PlanningPayload(
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                template_version=version,
                contact=contact,
                sender_ids=tuple(sender_ids),
                requested_at=now,
            )
            return Task(
                queue=queues.CAMPAIGN_PLANNING,
                function=FUNCTION,
                payload=payload.model_dump(mode="json"),
                name=task_name(tenant_id, campaign_id, contact.lead_id),
            )

        iterator = iter(source)
        with ThreadPoolExecutor(max(1, self.workers), thread_name_prefix="plan-enqueue") as pool:
            while chunk := list(itertools.islice(iterator, CHUNK)):
                added = list(pool.map(self.tasks.enqueue, [task_for(c) for c in chunk]))
                report.enqueued += sum(added)
                report.already_enqueued += len(added) - sum(added)
                progress(len(added))
        return report

    def _template(self, tenant_id: str, version: str) -> Plan:
        cached = self._templates.get((tenant_id, version))
        if cached is None:
            cached = self.campaigns.plans.get(tenant_id, version)
            if cached is None:
                raise NotFound(f"template plan {version} is missing", field="template_version")
            self._templates[(tenant_id, version)] = cached
        return cached

    def run(self, payload: PlanningPayload) -> str:
        """Plan one contact, then start it or queue it for review; idempotent per contact campaign."""
        tenant_id, campaign_id, contact = payload.tenant_id, payload.campaign_id, payload.contact
        ccid = contact_campaign_id(campaign_id, contact.lead_id)
        # Checked before planning, so a repeated delivery costs no model call.
        if self.campaigns.states.get(tenant_id, ccid) is not None:
            return "already_started"
        if self.reviews.get(tenant_id, ccid) is not None:
            return "already_in_review"
        if self.campaigns.tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant_id")
        try:
            self._refuse_stopped(tenant_id, campaign_id)
        except Conflict:
            return "campaign_stopped"
        template = self._template(tenant_id, payload.template_version)
        senders = senders_for(self.campaigns, tenant_id, payload.sender_ids)
        planned = self.planner.plan_contact(tenant_id, campaign_id, contact, template)
        validate_plan(planned.plan)
        if self.configs.get(tenant_id).review_ai_plans:
            review = PlanReview(
                tenant_id=tenant_id,
                contact_campaign_id=ccid,
                campaign_id=campaign_id,
                contact=contact,
                sender_ids=payload.sender_ids,
                template_version=payload.template_version,
                plan=planned.plan,
                messages=copy_of(planned.plan),
                record=_record(planned.record),
                analysis=_value(planned.analysis),
                created_at=self.clock.now(),
            )
            return "queued_for_review" if self.reviews.add(review) else "already_in_review"
        started = self.campaigns.start_contact(tenant_id, campaign_id, contact, planned.plan, senders)
        return "started" if started else "already_started"
