-- lead_profiles: one row per (tenant, lead) with the intent score, its components (why
-- a lead is hot) and the facts they came from. Written by the score job (MERGE).
create table if not exists lead_profiles (
  tenant_id string not null,
  lead_id string not null,
  sessions int64 not null,
  pageviews int64 not null,
  active_minutes float64 not null,
  scroll_milestones int64 not null,
  pricing_views int64 not null,
  case_study_views int64 not null,
  product_views int64 not null,
  forms_submitted int64 not null,
  videos_completed int64 not null,
  first_seen_at timestamp not null,
  last_activity_at timestamp not null,
  recency_points float64 not null,
  frequency_points float64 not null,
  engagement_points float64 not null,
  high_intent_points float64 not null,
  conversion_points float64 not null,
  score float64 not null,
  level string not null,
  previous_level string,
  level_changed_at timestamp not null,
  scored_at timestamp not null
)
cluster by tenant_id, lead_id;
