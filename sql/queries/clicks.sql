-- name: recent_clicks
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
