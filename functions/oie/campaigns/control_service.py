"""Pause, resume and stop (rules in control.py): a scope's control document, then its contacts.

A tenant or campaign change writes one document, which every step reads with its state, so
it holds at once however many contacts the scope has; a resume then re-arms the steps that
were held, a stop ends them. A contact change is a transaction on each of its campaigns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oie.campaigns import engine
from oie.campaigns.control import TARGET, ControlRequest, ControlResult, next_control, verdict
from oie.campaigns.models import ContactCampaign, Controls, TransitionRecord, contact_campaign_id
from oie.campaigns.plan import Plan
from oie.campaigns.service import CampaignService
from oie.errors import Conflict, NotFound

PAGE = 500
DONE = {"pause": "paused", "resume": "resumed", "stop": "stopped"}  # the outcome that means it changed
Decide = Callable[[Plan, ContactCampaign, Controls], engine.Decision]


@dataclass
class ControlService:
    campaigns: CampaignService
    known_campaign: Callable[[str, str], bool]  # imported (CampaignStore) even if not started yet

    def lead_for(self, tenant_id: str, email: str) -> str:
        """The lead id of an address that is in one of the tenant's campaigns."""
        found = self.campaigns.states.of_contact(tenant_id, email=email.strip().lower())
        if not found:
            raise NotFound("no contact with that address is in a campaign", field="contact")
        return found[0].contact.lead_id

    def apply(self, tenant_id: str, request: ControlRequest, actor: str) -> ControlResult:
        """Pause, resume or stop one scope; the same request twice answers `changed: false`."""
        svc = self.campaigns
        if svc.tenants.get(tenant_id) is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant_id")
        campaign = request.campaign_id
        if campaign is not None and not self._known(tenant_id, campaign):
            raise NotFound(f"no campaign {campaign!r}", field="campaign_id")
        text = f"{request.scope} {request.action} by {actor}" + (f": {request.reason}" if request.reason else "")
        if request.scope == "contact":
            assert request.lead_id is not None
            moved = self._contact(tenant_id, request, request.lead_id, text)
            return self._result(tenant_id, request, changed=moved > 0, contacts=moved)
        now = svc.clock.now()
        control, changed = svc.states.set_control(
            tenant_id, campaign, lambda current: next_control(current, request.action, actor, request.reason, now)
        )
        if changed:
            where = f"campaign:{campaign}" if campaign else "tenant"
            svc.record(
                [
                    TransitionRecord(
                        transition_id=f"control:{where}:{request.action}:{now.isoformat()}",
                        tenant_id=tenant_id,
                        campaign_id=campaign or "",
                        contact_campaign_id="",
                        lead_id="",
                        plan_version="",
                        from_node=None,
                        to_node=None,
                        trigger=request.action,
                        reason=text,
                        status_after=control.state,
                        occurred_at=now,
                        recorded_at=now,
                    )
                ]
            )
        moved = 0
        # Also on a no-op resume or stop: it finishes the sweep of an earlier call that died midway.
        if request.action == "resume":
            moved = self._sweep(tenant_id, campaign, lambda p, s, c: engine.on_rearm(p, s, verdict(c, s), text, now))
        elif request.action == "stop":
            moved = self._sweep(tenant_id, campaign, lambda p, s, c: engine.on_stop(p, s, text, now))
        return self._result(tenant_id, request, changed=changed, contacts=moved)

    def _known(self, tenant_id: str, campaign_id: str) -> bool:
        return self.known_campaign(tenant_id, campaign_id) or bool(
            self.campaigns.states.in_campaign(tenant_id, campaign_id, 1)
        )

    def _sweep(self, tenant_id: str, campaign_id: str | None, decide: Decide) -> int:
        """Apply `decide` to every held contact campaign of the scope; how many changed."""
        moved = 0
        while True:
            page = self.campaigns.states.held(tenant_id, campaign_id, PAGE)
            done = [self.campaigns.change(tenant_id, s.contact_campaign_id, None, decide) for s in page]
            changed = sum(outcome in ("resumed", "stopped") for outcome in done)
            moved += changed
            # Still held (a wider or the contact's own pause) stay in the query: stop when nothing moves.
            if len(page) < PAGE or changed == 0:
                return moved

    def _contact(self, tenant_id: str, request: ControlRequest, lead_id: str, text: str) -> int:
        svc, now = self.campaigns, self.campaigns.clock.now()
        targets: list[ContactCampaign]
        if request.campaign_id is not None:
            one = svc.states.get(tenant_id, contact_campaign_id(request.campaign_id, lead_id))
            targets = [one] if one is not None else []
        else:
            targets = svc.states.of_contact(tenant_id, lead_id=lead_id)
        if not targets:
            raise NotFound("no such lead in this tenant's campaigns", field="lead_id")
        decide: Decide
        if request.action == "pause":
            decide = lambda p, s, c: engine.on_pause(p, s, text, now)  # noqa: E731
        elif request.action == "stop":
            decide = lambda p, s, c: engine.on_stop(p, s, text, now)  # noqa: E731
        else:
            decide = lambda p, s, c: engine.on_resume(  # noqa: E731
                p, s, verdict(c, s.model_copy(update={"paused": False})), text, now
            )
        outcomes = [svc.change(tenant_id, t.contact_campaign_id, None, decide) for t in targets]
        if outcomes and all(o == "stopped" for o in outcomes) and request.action != "stop":
            raise Conflict("this contact's campaign was stopped; stop is final", field="action")
        return sum(o == DONE[request.action] for o in outcomes)

    def _result(self, tenant_id: str, request: ControlRequest, *, changed: bool, contacts: int) -> ControlResult:
        return ControlResult(
            tenant_id=tenant_id,
            action=request.action,
            scope=request.scope,
            campaign_id=request.campaign_id,
            lead_id=request.lead_id,
            state=TARGET[request.action],
            changed=changed,
            contacts=contacts,
        )
