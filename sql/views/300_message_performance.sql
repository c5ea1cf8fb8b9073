-- message_performance: one row per (tenant, campaign, day) for Looker Studio: the
-- message_metrics_campaign_daily rollup with its rates. Opens and clicks are people only;
-- sent is SendGrid's `processed` count.
create or replace view message_performance as

with daily as (
  select * from message_metrics_campaign_daily
),

final as (
  select
    tenant_id,
    campaign_id,
    day,
    sent,
    delivered,
    opened,
    clicked,
    replied,
    bounced,
    unsubscribed,
    spam_reports,
    visits,
    leads_visited,
    leads_turned_hot,
    safe_divide(delivered, sent) as delivery_rate,
    safe_divide(opened, delivered) as open_rate,
    safe_divide(clicked, delivered) as click_rate,
    safe_divide(replied, delivered) as reply_rate,
    safe_divide(bounced, sent) as bounce_rate,
    safe_divide(unsubscribed, delivered) as unsubscribe_rate,
    safe_divide(spam_reports, delivered) as spam_rate,
    duplicate_rate
  from daily
)

select * from final;
