-- tenant_message_health: one row per (tenant, day) for Looker Studio: deliverability and
-- engagement over every campaign (rates computed in message_daily), and how many webhook
-- events SendGrid sent more than once.
create or replace view tenant_message_health as

with daily as (
  select * from message_daily where campaign_id is null
),

final as (
  select
    tenant_id, day, sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_reports, visits,
    leads_visited, leads_turned_hot, delivery_rate, open_rate, click_rate, reply_rate, bounce_rate, spam_rate,
    events_received, unique_events, duplicate_rate
  from daily
)

select * from final;
