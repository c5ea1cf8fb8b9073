-- plan_generations: one row per plan the language-model planner produced or reused for a
-- contact (generation_id = the input hash and when it was planned). The outcome says how:
-- generated, repaired, fallback_invalid, fallback_error, budget_exhausted (the tenant's
-- template plan) or reused (an earlier plan of the same input hash, no model call).
create table if not exists plan_generations (
  generation_id string not null,
  tenant_id string not null,
  campaign_id string not null,
  lead_id string not null,
  input_hash string not null,
  model string not null,
  prompt_version string not null,
  outcome string not null,
  fallback_reason string,
  model_calls int64 not null,
  prompt_tokens int64 not null,
  output_tokens int64 not null,
  cost_usd float64 not null,
  latency_ms int64 not null,
  plan_version string not null,
  lead_analysis string,
  planned_at timestamp not null
)
partition by date(planned_at)
cluster by tenant_id, campaign_id
options (partition_expiration_days = 730);
