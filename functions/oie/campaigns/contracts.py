"""What the campaign engine and the webhooks function agree on.

- Every sent message carries SendGrid custom args CUSTOM_ARGS (SendGrid returns them as
  top-level fields of each event), so events map back to a contact campaign. Their values
  are strings: `variant_id` is present only when the node has A/B/n variants.
- Firestore `tenants/{t}/outbound_messages/{message_id}` (written by the engine before
  the provider call): contact_campaign_id, node_id, variant_id (null without variants), channel, to_email, status
  (queued | sent | failed | canceled), provider_message_id, reply_token,
  rfc_message_id (the Message-ID header), dedup_key, created_at, sent_at.
  The webhooks function finds a reply's message by reply_token (Reply-To
  reply+<token>@<tenant reply_domain>) or by rfc_message_id (In-Reply-To / References).
- Events that can move a plan reach `campaign_step` as Cloud Tasks on queue
  WEBHOOK_EVENTS with payload {"kind": "event", "event": EngineEvent JSON}; due steps
  arrive on CAMPAIGN_STEPS with {"kind": "step", ...} (the engine's own format).
- What the contact does beyond email (a page visit, a form, a return visit, a level
  crossing from the score job, an outcome from sales) reaches `campaign_step` on queue
  INTENT_SIGNALS as {"kind": "signal", "signal": IntentSignal JSON}, one task per signal
  named by its key, so a second delivery is refused by Cloud Tasks or dropped by the state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CUSTOM_ARGS = ("tenant_id", "contact_campaign_id", "campaign_id", "node_id", "oie_message_id", "variant_id")

EngineEventType = Literal["delivered", "open", "click", "reply", "bounce", "unsubscribe", "spam_report"]


class EngineEvent(BaseModel):
    """A human-relevant thing that happened to one message, as the engine consumes it.

    Machine opens (Apple Mail Privacy Protection, image proxies) and scanner clicks are
    never turned into EngineEvents: they neither fire transitions nor stop timers.
    """

    model_config = ConfigDict(frozen=True)

    event_key: str = Field(min_length=8, max_length=200)  # the webhooks de-dup key
    tenant_id: str
    contact_campaign_id: str
    message_id: str
    type: EngineEventType
    occurred_at: datetime
    details: dict[str, Any] = Field(default_factory=dict)


SignalType = Literal["page_visit", "intent_level", "form_submit", "return_visit", "outcome"]


class IntentSignal(BaseModel):
    """Something a lead did (or sales recorded) that a plan may wait for, for every campaign of that lead.

    Exactly one of `lead_id` and `tracking_id` says who; the consumer resolves a tracking id
    to its lead. `signal_key` is stable for one real-world happening (an event id, a level
    change id, an outcome id), so a second delivery changes nothing. Signals may arrive in
    any order: `occurred_at` decides whether one counts for the node the contact is on.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    signal_key: str = Field(min_length=8, max_length=200)
    tenant_id: str = Field(min_length=1, max_length=64)
    type: SignalType
    occurred_at: datetime
    lead_id: str | None = Field(default=None, max_length=200)
    tracking_id: str | None = Field(default=None, max_length=64)
    # page_visit: the page's URL and the class the tenant's page rules give it (pricing, case_study, product).
    url: str | None = Field(default=None, max_length=2048)
    page_class: str | None = Field(default=None, max_length=64)
    # intent_level: the level reached; outcome: the outcome type and its stage.
    level: Literal["cold", "warm", "hot", "burning"] | None = None
    outcome: str | None = Field(default=None, max_length=64)
    stage: str | None = Field(default=None, max_length=32)
