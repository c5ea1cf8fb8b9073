-- webhook_deliveries: one row per signed SendGrid Event Webhook delivery (delivery_id =
-- sha256 of what SendGrid signed: its timestamp and the raw body), kept raw for audit.
-- A retry is a new delivery (SendGrid signs it anew); its events are flagged duplicates in
-- message_events and counted here. Malformed bodies are kept too, with the error.
create table if not exists webhook_deliveries (
  delivery_id string not null,
  tenant_id string not null,
  kind string not null,
  received_at timestamp not null,
  signed_at timestamp,
  body_sha256 string not null,
  raw_body string,
  event_count int64 not null,
  new_events int64 not null,
  duplicate_events int64 not null,
  ignored_events int64 not null,
  error string,
  details json
)
partition by date(received_at)
cluster by tenant_id
options (partition_expiration_days = 400);

-- rejected_events: events of the delivery that can never be stored (out-of-range times,
-- broken text, not objects); they stay in raw_body, with why in details.rejected.
-- Additive, so a warehouse migrated before it gains the column too.
alter table webhook_deliveries add column if not exists rejected_events int64;
