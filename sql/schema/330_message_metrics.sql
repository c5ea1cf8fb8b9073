-- Message metrics, written by the message_metrics job (MERGE on the grain keys, so a re-run
-- leaves the same rows). Counts are distinct events (dedup_key), never rows. `sent` counts
-- SendGrid's `processed` events: a proxy for what the engine sent (its outbound_messages
-- live in Firestore). Opens and clicks count people only (no machine opens, no scanner
-- clicks). duplicate_rate = copies received / events received (SendGrid's retries).

-- message_metrics_hourly: one row per (tenant, contact campaign, hour the events happened).
create table if not exists message_metrics_hourly (
  tenant_id string not null,
  contact_campaign_id string not null,
  hour_start timestamp not null,
  campaign_id string,
  sent int64 not null,
  delivered int64 not null,
  opened int64 not null,
  machine_opens int64 not null,
  clicked int64 not null,
  scanner_clicks int64 not null,
  replied int64 not null,
  auto_replies int64 not null,
  bounced int64 not null,
  unsubscribed int64 not null,
  spam_reports int64 not null,
  events_received int64 not null,
  unique_events int64 not null,
  duplicate_rate float64,
  updated_at timestamp not null
)
partition by date(hour_start)
cluster by tenant_id, contact_campaign_id;

-- message_metrics_campaign_daily: one row per (tenant, campaign, day), with the intent the
-- campaign's leads (identity_map) showed that day: visits (sessions started) and leads that
-- rose to hot or burning (lead_level_changes).
create table if not exists message_metrics_campaign_daily (
  tenant_id string not null,
  campaign_id string not null,
  day date not null,
  sent int64 not null,
  delivered int64 not null,
  opened int64 not null,
  clicked int64 not null,
  replied int64 not null,
  bounced int64 not null,
  unsubscribed int64 not null,
  spam_reports int64 not null,
  events_received int64 not null,
  unique_events int64 not null,
  duplicate_rate float64,
  visits int64 not null,
  leads_visited int64 not null,
  leads_turned_hot int64 not null,
  updated_at timestamp not null
)
partition by day
cluster by tenant_id, campaign_id;

-- message_metrics_tenant_daily: one row per (tenant, day), over every contact campaign.
create table if not exists message_metrics_tenant_daily (
  tenant_id string not null,
  day date not null,
  sent int64 not null,
  delivered int64 not null,
  opened int64 not null,
  clicked int64 not null,
  replied int64 not null,
  bounced int64 not null,
  unsubscribed int64 not null,
  spam_reports int64 not null,
  events_received int64 not null,
  unique_events int64 not null,
  duplicate_rate float64,
  visits int64 not null,
  leads_visited int64 not null,
  leads_turned_hot int64 not null,
  updated_at timestamp not null
)
partition by day
cluster by tenant_id;
