-- email_click_quality: one row per click, with the scanner patterns only visible across
-- requests: several clicks on one link within seconds (scanners open every link of a
-- message at once), which no person does.
create or replace view email_click_quality as

with clicks as (
  select
    click_id,
    tenant_id,
    tracking_id,
    lead_id,
    campaign_id,
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

final as (
  select
    click_id,
    tenant_id,
    tracking_id,
    lead_id,
    campaign_id,
    clicked_at,
    target_url,
    is_bot,
    bot_reasons,
    clicks_within_5s >= 3 as is_scanner_burst,
    not is_bot and clicks_within_5s < 3 as is_human_candidate
  from clicks
)

select * from final;
