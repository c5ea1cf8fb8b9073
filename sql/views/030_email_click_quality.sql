-- email_click_quality: one row per known-link click, with what single requests cannot
-- show: bursts (several clicks on one link within seconds, as scanners open every
-- link of a message at once) and verification (the visitor /go handed out then sent
-- pixel events from a real browser with a valid identity token within 30 minutes).
create or replace view email_click_quality as

with clicks as (
  select
    click_id,
    tenant_id,
    tracking_id,
    lead_id,
    campaign_id,
    visitor_id,
    clicked_at,
    target_url,
    is_bot,
    bot_reasons,
    count(*) over (
      partition by tenant_id, tracking_id
      order by unix_seconds(clicked_at)
      range between 5 preceding and 5 following
    ) as clicks_within_5s
  from email_clicks
  where is_known_link
),

browser_visits as (
  select distinct
    tenant_id,
    visitor_id,
    tracking_id,
    occurred_at
  from events
  where identity_status = 'verified' and not is_bot
),

verified as (
  select distinct c.click_id
  from clicks as c
  inner join browser_visits as v
    on
      v.tenant_id = c.tenant_id
      and v.visitor_id = c.visitor_id
      and v.tracking_id = c.tracking_id
      and v.occurred_at between c.clicked_at and timestamp_add(c.clicked_at, interval 30 minute)
),

final as (
  select
    c.click_id,
    c.tenant_id,
    c.tracking_id,
    c.lead_id,
    c.campaign_id,
    c.visitor_id,
    c.clicked_at,
    c.target_url,
    c.is_bot,
    c.bot_reasons,
    c.clicks_within_5s >= 3 as is_scanner_burst,
    v.click_id is not null as is_verified,
    v.click_id is not null or (not c.is_bot and c.clicks_within_5s < 3) as is_human
  from clicks as c
  left join verified as v on v.click_id = c.click_id
)

select * from final;
