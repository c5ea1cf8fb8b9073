"""Which A/B/n variant of a send node a contact gets: a weighted choice that never changes.

The choice is a function of sha256(contact campaign id + node id) alone, so a retried or
duplicated step picks the same variant, and one contact's picks on two nodes are independent.
Once an experiment has a winner (oie.campaigns.ports.Experiments), contacts not yet sent get it.
"""

from __future__ import annotations

import hashlib

from oie.campaigns.plan import EmailTemplate, SendNode, SmsTemplate

Template = EmailTemplate | SmsTemplate


def bucket(contact_campaign_id: str, node_id: str, total: int) -> int:
    """A stable, uniform number in [0, total) for one contact on one node."""
    digest = hashlib.sha256(f"{contact_campaign_id}\x1f{node_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") * total >> 64


def assign(node: SendNode, contact_campaign_id: str, winner: str | None) -> tuple[str | None, Template]:
    """(variant id, template) for this contact: the winner when it is one of the node's variants,
    else the weighted choice; (None, the template) for a node without variants."""
    if not node.variants:
        assert node.template is not None, "validated send nodes have a template or variants"
        return None, node.template
    for variant in node.variants:
        if variant.id == winner:
            return variant.id, variant.template
    point = bucket(contact_campaign_id, node.id, sum(v.weight for v in node.variants))
    for variant in node.variants:
        if point < variant.weight:
            return variant.id, variant.template
        point -= variant.weight
    raise AssertionError("bucket() is below the total weight")
