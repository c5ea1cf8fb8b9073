-- lead_score_history: one row per (tenant, lead, day): the lead's score, level and
-- components as the last score run of that day left them. MERGEd by the score job for
-- every profile it rescored or decayed, so a day without a row kept the previous day's
-- score (read it forward). The console's 7-day trend and the timeline's chart read it.
create table if not exists lead_score_history (
  tenant_id string not null,
  lead_id string not null,
  day date not null,
  score float64 not null,
  level string not null,
  recency_points float64 not null,
  frequency_points float64 not null,
  engagement_points float64 not null,
  high_intent_points float64 not null,
  conversion_points float64 not null,
  evidence_level string,
  scored_at timestamp not null
)
partition by day
cluster by tenant_id, lead_id
options (partition_expiration_days = 730);

-- Sessions that started in the 7 days up to the lead's last activity, for the console's
-- reason words ("2 sessions this week"). Relative to the last visit, not to the run, so it
-- needs no refresh as time passes. Additive; null on profiles scored before it existed.
alter table lead_profiles add column if not exists sessions_7d int64;
