-- campaign_transitions: one row per move of one contact's campaign (transition_id =
-- contact campaign, state version, order within the change), appended by campaign_step:
-- starts, node changes, sends, deferrals by sending limits, blocks and ends, with why.
create table if not exists campaign_transitions (
  transition_id string not null,
  tenant_id string not null,
  campaign_id string not null,
  contact_campaign_id string not null,
  lead_id string not null,
  plan_version string not null,
  from_node string,
  to_node string,
  trigger string not null,
  reason string,
  event_key string,
  status_after string not null,
  occurred_at timestamp not null,
  recorded_at timestamp not null
)
partition by date(occurred_at)
cluster by tenant_id, campaign_id;

-- The A/B/n variant a "sent" row's message used (null for nodes without variants).
alter table campaign_transitions add column if not exists variant_id string;
