"""Smartlead and Instantly webhooks: their email events in the same `message_events` as SendGrid's.

`models` (their payloads, tolerant of extra fields) → `normalise` (pure: one normalised
event, its de-dup key and its row) → `service` (authenticate, store raw, de-duplicate,
tie to the lead, suppress and stop) ← `http` (the two routes). `auth` holds the per-tenant
secret; `store` the Firestore and warehouse lookups. docs/sequencers.md is the user guide.
"""
