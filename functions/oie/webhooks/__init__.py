"""Webhooks: SendGrid's signed Event Webhook, Inbound Parse replies and unsubscribe links.

Every request is verified first, stored raw for audit, normalised into warehouse rows,
de-duplicated with Firestore markers, and what can move a campaign is handed to
`campaign_step` as Cloud Tasks (`oie.campaigns.contracts.EngineEvent`).
"""
