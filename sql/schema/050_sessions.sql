-- sessions: one row per (tenant, visitor, session): events of one visitor with no gap
-- longer than 30 minutes. session_id = visitor id + '-' + the session's start in unix ms,
-- so recomputing a session gives the same key. Written by the sessionize job (MERGE).
create table if not exists sessions (
  tenant_id string not null,
  session_id string not null,
  visitor_id string not null,
  lead_id string,
  session_start timestamp not null,
  session_end timestamp not null,
  duration_s int64 not null,
  active_s int64 not null,
  event_count int64 not null,
  pageviews int64 not null,
  clicks int64 not null,
  max_scroll int64 not null,
  scroll_milestones int64 not null,
  forms_started int64 not null,
  forms_submitted int64 not null,
  videos_played int64 not null,
  videos_completed int64 not null,
  pricing_views int64 not null,
  case_study_views int64 not null,
  product_views int64 not null,
  entry_page string,
  exit_page string,
  device_type string,
  browser string,
  os string,
  country string,
  company_name string,
  is_return_visit bool not null,
  updated_at timestamp not null
)
partition by date(session_start)
cluster by tenant_id, lead_id, visitor_id
options (partition_expiration_days = 730);
