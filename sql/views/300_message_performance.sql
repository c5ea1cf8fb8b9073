-- message_performance: one row per (tenant, campaign, day) for Looker Studio: the
-- message_metrics_campaign_daily rollup with its rates (computed in message_daily).
-- Opens and clicks are people only; sent is SendGrid's `processed` count.
create or replace view message_performance as

with daily as (
  select * from message_daily where campaign_id is not null
),

final as (
  select
    tenant_id, campaign_id, day, sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_reports,
    visits, leads_visited, leads_turned_hot, delivery_rate, open_rate, click_rate, reply_rate, bounce_rate,
    unsubscribe_rate, spam_rate, duplicate_rate
  from daily
)

select * from final;
