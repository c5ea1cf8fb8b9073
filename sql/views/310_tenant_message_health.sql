-- tenant_message_health: one row per (tenant, day) for Looker Studio: deliverability and
-- engagement over every campaign, and how many webhook events SendGrid sent more than once.
create or replace view tenant_message_health as

with daily as (
  select * from message_metrics_tenant_daily
),

final as (
  select
    tenant_id,
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
    safe_divide(spam_reports, delivered) as spam_rate,
    events_received,
    unique_events,
    duplicate_rate
  from daily
)

select * from final;
