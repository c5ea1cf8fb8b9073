-- lead_outcomes: one row per recorded outcome (outcome_id), append-only. The attribution
-- the lead had when the outcome was recorded is flattened into source_key, geo_key,
-- intent_type and intent_level, so later attribute changes never rewrite history.
create table if not exists lead_outcomes (
  outcome_id string not null,
  tenant_id string not null,
  lead_id string not null,
  created_at timestamp not null,
  occurred_at timestamp not null,
  outcome_type string not null,
  outcome_stage string not null,
  recorded_by string not null,
  notes string,
  metadata json,
  source_key string not null,
  geo_key string not null,
  intent_type string not null,
  intent_level string not null
)
partition by date(occurred_at)
cluster by tenant_id, lead_id;
