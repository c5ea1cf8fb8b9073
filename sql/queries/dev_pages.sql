-- Queries behind the local stack's /_dev pages (and tests that read what they show).
-- name: recent_clicks
-- params: tenant_id STRING, limit_rows INT64
-- The latest clicks of one tenant, newest first (dev pages, tests).
select
  click_id,
  tracking_id,
  lead_id,
  campaign_id,
  clicked_at,
  target_url,
  is_bot,
  bot_reasons
from email_clicks
where tenant_id = @tenant_id
order by clicked_at desc
limit @limit_rows;

-- name: recent_events
-- params: tenant_id STRING, limit_rows INT64
-- The latest pixel events of one tenant with their lead, newest first (dev pages).
select
  occurred_at,
  event_type,
  lead_id,
  visitor_id,
  session_id,
  identity_status,
  page_path,
  company_name,
  is_bot,
  to_json_string(props) as props
from events_identified
where tenant_id = @tenant_id
order by received_at desc, occurred_at desc
limit @limit_rows;

-- name: lead_scores
-- params: tenant_id STRING, limit_rows INT64
-- Every scored lead of one tenant with its components, hottest first (dev pages).
select
  lead_id,
  score,
  level,
  recency_points,
  frequency_points,
  engagement_points,
  high_intent_points,
  conversion_points,
  sessions,
  pricing_views,
  last_activity_at
from lead_profiles
where tenant_id = @tenant_id
order by score desc
limit @limit_rows;
