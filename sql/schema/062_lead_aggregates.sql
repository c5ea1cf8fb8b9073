-- lead_aggregates: one row per (tenant, lead, visitor): the running totals of that
-- visitor's settled sessions for that lead (session_start < settled_before), so the score
-- job adds only the sessions that are still open to change. A session settles 40 days
-- after it starts: sessionize rewrites only sessions that started at most 32 days before
-- its window (/track refuses events more than 30 days old; a session spans < 2 days), and
-- stitches a newly identified visitor's anonymous sessions of those 32 days, so a settled
-- session never changes again. Written by the score job (score_settle_sessions); erasure
-- and retention remove or recount rows (sql/jobs/lead_aggregates.sql).
create table if not exists lead_aggregates (
  tenant_id string not null,
  lead_id string not null,
  visitor_id string not null,
  settled_before timestamp not null,
  sessions int64 not null,
  pageviews int64 not null,
  active_s int64 not null,
  scroll_milestones int64 not null,
  pricing_views int64 not null,
  case_study_views int64 not null,
  product_views int64 not null,
  forms_submitted int64 not null,
  videos_completed int64 not null,
  verified_sessions int64 not null,
  corroborated_sessions int64 not null,
  first_seen_at timestamp not null,
  last_activity_at timestamp not null,
  updated_at timestamp not null
)
cluster by tenant_id, lead_id, visitor_id;

-- A warehouse that had sessions before this table settles its sessions older than 40 days
-- once, while the table is still empty; later migrates add nothing. Each row's
-- settled_before keeps the score job from counting any of them twice.
insert into lead_aggregates (
  tenant_id, lead_id, visitor_id, settled_before, sessions, pageviews, active_s, scroll_milestones, pricing_views,
  case_study_views, product_views, forms_submitted, videos_completed, verified_sessions, corroborated_sessions,
  first_seen_at, last_activity_at, updated_at
)
select
  tenant_id,
  lead_id,
  visitor_id,
  timestamp_sub(current_timestamp(), interval 40 day) as settled_before,
  sum(sessions) as sessions,
  sum(pageviews) as pageviews,
  sum(active_s) as active_s,
  sum(scroll_milestones) as scroll_milestones,
  sum(pricing_views) as pricing_views,
  sum(case_study_views) as case_study_views,
  sum(product_views) as product_views,
  sum(forms_submitted) as forms_submitted,
  sum(videos_completed) as videos_completed,
  sum(verified_sessions) as verified_sessions,
  sum(corroborated_sessions) as corroborated_sessions,
  min(first_seen_at) as first_seen_at,
  max(last_activity_at) as last_activity_at,
  current_timestamp() as updated_at
from session_totals
where
  session_start < timestamp_sub(current_timestamp(), interval 40 day)
  and not exists (select 1 from lead_aggregates)
group by tenant_id, lead_id, visitor_id;
