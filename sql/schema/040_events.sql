-- events: one row per pixel event (event_id = visitor id + the pixel's client event id).
-- Written by /track with the event id as insert id; raw emails are never stored, only
-- their sha256 / sha1 / md5. Partitioned by the day the server received the event.
create table if not exists events (
  event_id string not null,
  tenant_id string not null,
  visitor_id string not null,
  session_id string not null,
  tracking_id string,
  identity_status string not null,
  event_type string not null,
  occurred_at timestamp not null,
  received_at timestamp not null,
  page_url string,
  page_host string,
  page_path string,
  props json,
  email_sha256 string,
  email_sha1 string,
  email_md5 string,
  user_agent string,
  browser string,
  browser_version string,
  os string,
  device_type string,
  viewport_width int64,
  viewport_height int64,
  screen_width int64,
  screen_height int64,
  language string,
  tz_offset_min int64,
  visit_number int64,
  ip string,
  country string,
  region string,
  city string,
  company_name string,
  company_domain string,
  is_bot bool not null,
  bot_reasons array<string>
)
partition by date(received_at)
cluster by tenant_id, visitor_id
options (partition_expiration_days = 730);
