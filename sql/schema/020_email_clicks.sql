-- email_clicks: one row per request to /go (click_id), humans and scanners alike.
-- `is_bot` is what one request showed (method, user agent, scanner network); patterns
-- across requests are judged in the email_click_quality view.
create table if not exists email_clicks (
  click_id string not null,
  tenant_id string,
  tracking_id string,
  is_known_link bool not null,
  lead_id string,
  campaign_id string,
  clicked_at timestamp not null,
  method string,
  target_url string,
  user_agent string,
  referrer string,
  ip string,
  country string,
  is_bot bool not null,
  bot_reasons array<string>
)
partition by date(clicked_at)
cluster by tenant_id, tracking_id
options (partition_expiration_days = 730);
