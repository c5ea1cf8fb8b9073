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

-- The evidence behind the level (see "Trust" in the README), additive for existing
-- tables: the lead's best proof over its visitors ('verified', 'corroborated', 'id_only'),
-- its sessions counted by their visitor's proof, the level the score alone gives, and why
-- the level was held below it (null when it was not). `score` itself is never capped.
alter table lead_profiles add column if not exists evidence_level string;
alter table lead_profiles add column if not exists verified_sessions int64;
alter table lead_profiles add column if not exists corroborated_sessions int64;
alter table lead_profiles add column if not exists id_only_sessions int64;
alter table lead_profiles add column if not exists uncapped_level string;
alter table lead_profiles add column if not exists level_cap_reason string;
