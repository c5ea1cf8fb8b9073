"""The Cloud Tasks queues the code enqueues to; Terraform must create each one."""

from typing import Final

CAMPAIGN_STEPS: Final = "campaign-steps"
WEBHOOK_EVENTS: Final = "webhook-events"
# Page visits, level crossings and outcomes handed to waiting plans (contracts.IntentSignal).
INTENT_SIGNALS: Final = "intent-signals"
# Per-contact planning by the language model, paced by the queue's dispatch rate.
CAMPAIGN_PLANNING: Final = "campaign-planning"

# name -> which function the queue's tasks are delivered to
QUEUES: Final[dict[str, str]] = {
    CAMPAIGN_STEPS: "campaign_step",
    WEBHOOK_EVENTS: "campaign_step",
    INTENT_SIGNALS: "campaign_step",
    CAMPAIGN_PLANNING: "campaign_plan",
}
