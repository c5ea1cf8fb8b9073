"""Consuming intent signals: who it is, what page it was, and each of the lead's campaigns moved.

A signal names a lead, or a tracking id resolved through the link store (the link's tenant
must be the signal's: a tracking id never reaches another tenant's campaigns). Each of the
lead's active contact campaigns gets `engine.on_signal` through `CampaignService.change`,
one transaction each; the engine keeps the signal's key, so a second delivery changes
nothing, and `occurred_at` decides whether an old signal still counts for the node.
"""

from __future__ import annotations

from dataclasses import dataclass

from oie.campaigns import engine
from oie.campaigns.contracts import IntentSignal
from oie.campaigns.page_rules import PageRules
from oie.campaigns.service import CampaignService
from oie.campaigns.watch import IntentWatch
from oie.go.cache import ReadThroughCache
from oie.links.models import Link
from oie.logs import get_logger

log = get_logger(__name__)


@dataclass
class SignalService:
    campaigns: CampaignService
    links: ReadThroughCache[Link]  # or the LinkStore itself: both have get(tracking_id)
    watch: IntentWatch
    pages: PageRules

    def apply(self, signal: IntentSignal) -> str:
        """Apply one signal to every active campaign of its lead; the outcomes, comma-joined."""
        lead_id = self._lead_of(signal)
        if lead_id is None:
            return "unknown_lead"
        if signal.type == "page_visit" and not signal.page_class and signal.url:
            signal = signal.model_copy(update={"page_class": self.pages.class_of(signal.tenant_id, signal.url)})
        states = self.campaigns.states.of_contact(signal.tenant_id, lead_id=lead_id)
        active = [s for s in states if s.status == "active"]
        if signal.tracking_id:
            self._tidy_watch(signal, {s.contact_campaign_id for s in active})
        if not active:
            return "no_active_campaign"
        outcomes = [
            self.campaigns.change(
                signal.tenant_id,
                state.contact_campaign_id,
                None,
                lambda plan, s, _: engine.on_signal(plan, s, signal, self.campaigns.clock.now()),
            )
            for state in active
        ]
        return ",".join(sorted(set(outcomes)))

    def _lead_of(self, signal: IntentSignal) -> str | None:
        if signal.lead_id:
            return signal.lead_id
        link = self.links.get(signal.tracking_id or "")
        if link is None:
            return None
        if link.tenant_id != signal.tenant_id:
            log.warning(
                "signal refused: the tracking id is another tenant's",
                extra={"tenant_id": signal.tenant_id, "signal_key": signal.signal_key},
            )
            return None
        return link.lead_id

    def _tidy_watch(self, signal: IntentSignal, active: set[str]) -> None:
        """Drop ended contact campaigns from the tracking id's watch entry (lazily, when found)."""
        entry = self.watch.get(signal.tenant_id, signal.tracking_id or "")
        if entry is None:
            return
        ended = [c for c in entry.contact_campaign_ids if c not in active]
        if ended:
            self.watch.drop(signal.tenant_id, entry.tracking_id, ended)
