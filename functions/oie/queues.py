"""The Cloud Tasks queues the code enqueues to; Terraform must create each one."""

from typing import Final

CAMPAIGN_STEPS: Final = "campaign-steps"
WEBHOOK_EVENTS: Final = "webhook-events"

# name -> which function the queue's tasks are delivered to
QUEUES: Final[dict[str, str]] = {
    CAMPAIGN_STEPS: "campaign_step",
    WEBHOOK_EVENTS: "campaign_step",
}
