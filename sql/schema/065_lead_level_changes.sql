-- lead_level_changes: one row per time a lead's level changed (change_id = tenant, lead,
-- new level and the score run's time), appended by the score job; hot-lead alerts are
-- sent from it, once per change.
create table if not exists lead_level_changes (
  change_id string not null,
  tenant_id string not null,
  lead_id string not null,
  from_level string,
  to_level string not null,
  score float64 not null,
  changed_at timestamp not null
)
partition by date(changed_at)
cluster by tenant_id;

-- The lead's evidence when its level changed: alerts go only to corroborated leads.
alter table lead_level_changes add column if not exists evidence_level string;
