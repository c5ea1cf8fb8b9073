-- message_events: one row per event received about an outbound message (row_id = the
-- delivery and the event's position in it): SendGrid's events, and unsubscribes from our own
-- links (source 'link' / 'one_click'). dedup_key identifies the event itself (stable across
-- SendGrid's retries, see oie/webhooks/dedup.py): count distinct dedup_key, never rows;
-- is_duplicate marks copies the webhook had already seen. The recipient is kept only as
-- email_sha256 (joins identity_map); the suppression list holds the address itself.
create table if not exists message_events (
  row_id string not null,
  dedup_key string not null,
  tenant_id string not null,
  delivery_id string,
  source string not null,
  received_at timestamp not null,
  occurred_at timestamp not null,
  event_type string not null,
  is_known_type bool not null,
  sg_event_id string,
  sg_message_id string,
  email_sha256 string,
  url string,
  reason string,
  bounce_type string,
  status string,
  useragent string,
  ip string,
  contact_campaign_id string,
  campaign_id string,
  node_id string,
  oie_message_id string,
  is_machine_open bool not null,
  is_scanner_click bool not null,
  scanner_reasons array<string>,
  is_duplicate bool not null
)
partition by date(occurred_at)
cluster by tenant_id, contact_campaign_id
options (partition_expiration_days = 730);

-- The A/B/n variant of the message's send node (SendGrid custom arg variant_id); null without variants.
alter table message_events add column if not exists variant_id string;
