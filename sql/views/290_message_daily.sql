-- message_daily: one row per (tenant, campaign, day) and per (tenant, day) with campaign_id
-- null: the daily message rollups with their rates, computed once for both Looker Studio
-- views (message_performance per campaign, tenant_message_health per tenant). Opens and
-- clicks are people only; sent is SendGrid's `processed` count.
create or replace view message_daily as

with daily as (
  select
    tenant_id, campaign_id, day, sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_reports,
    visits, leads_visited, leads_turned_hot, events_received, unique_events, duplicate_rate
  from message_metrics_campaign_daily
  union all
  select
    tenant_id, cast(null as string) as campaign_id, day, sent, delivered, opened, clicked, replied, bounced,
    unsubscribed, spam_reports, visits, leads_visited, leads_turned_hot, events_received, unique_events,
    duplicate_rate
  from message_metrics_tenant_daily
),

final as (
  select
    *,
    safe_divide(delivered, sent) as delivery_rate,
    safe_divide(opened, delivered) as open_rate,
    safe_divide(clicked, delivered) as click_rate,
    safe_divide(replied, delivered) as reply_rate,
    safe_divide(bounced, sent) as bounce_rate,
    safe_divide(unsubscribed, delivered) as unsubscribe_rate,
    safe_divide(spam_reports, delivered) as spam_rate
  from daily
)

select * from final;
