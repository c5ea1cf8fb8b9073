-- Queries of the language-model planner (oie.planner.inputs): a few leads' intent evidence,
-- each bounded by the tenant, the leads and (for events) the partitions since @since.

-- name: planner_lead_profiles
-- params: tenant_id STRING, lead_ids ARRAY<STRING>
-- One row per scored lead: its level, score components and the facts they came from.
select
  lead_id,
  level,
  score,
  recency_points,
  frequency_points,
  engagement_points,
  high_intent_points,
  conversion_points,
  sessions,
  pageviews,
  pricing_views,
  case_study_views,
  product_views,
  forms_submitted,
  last_activity_at
from lead_profiles
where tenant_id = @tenant_id and lead_id in unnest(@lead_ids)
order by lead_id;

-- name: planner_lead_pages
-- params: tenant_id STRING, lead_ids ARRAY<STRING>, since TIMESTAMP, limit_rows INT64
-- One row per (lead, page path) the lead's visitors viewed since @since (bots left out), with
-- the page's class by the tenant's page rules (the defaults when it has none); the most
-- viewed @limit_rows pages per lead.
with lead_visitors as (
  select distinct
    visitor_id,
    lead_id
  from visitor_leads
  where tenant_id = @tenant_id and lead_id in unnest(@lead_ids)
),

page_views as (
  select
    v.lead_id,
    e.page_path,
    count(*) as views,
    max(e.occurred_at) as last_viewed_at
  from events as e
  inner join lead_visitors as v on v.visitor_id = e.visitor_id
  where
    e.tenant_id = @tenant_id
    and e.received_at >= @since
    and e.event_type = 'pageview'
    and e.page_path is not null
    and not e.is_bot
  group by v.lead_id, e.page_path
),

rules as (
  select
    page_class,
    path_pattern
  from page_rules
  where tenant_id = @tenant_id
  union all
  select
    page_class,
    path_pattern
  from page_rules
  where tenant_id = '*' and not exists (select 1 from page_rules where tenant_id = @tenant_id)
),

classified as (
  select
    p.lead_id,
    p.page_path,
    p.views,
    p.last_viewed_at,
    min(r.page_class) as page_class
  from page_views as p
  left join rules as r on regexp_contains(p.page_path, r.path_pattern)
  group by p.lead_id, p.page_path, p.views, p.last_viewed_at
),

final as (
  select
    lead_id,
    page_path,
    page_class,
    views,
    last_viewed_at
  from classified
  qualify row_number() over (partition by lead_id order by views desc, last_viewed_at desc, page_path) <= @limit_rows
)

select * from final
order by lead_id, views desc, last_viewed_at desc, page_path;

-- name: planner_lead_engagement
-- params: tenant_id STRING, lead_ids ARRAY<STRING>, since TIMESTAMP
-- One row per lead with email events since @since over all its contact campaigns (the
-- campaigns it was imported into): distinct events, people only (no machine opens or
-- scanner clicks), and replies that were not auto-replies.
with lead_campaigns as (
  select distinct
    lead_id,
    concat(campaign_id, '_', lead_id, '_email') as contact_campaign_id
  from identity_map
  where tenant_id = @tenant_id and lead_id in unnest(@lead_ids)
),

email_events as (
  select
    c.lead_id,
    count(distinct if(m.event_type = 'processed', m.dedup_key, null)) as sent,
    count(distinct if(m.event_type = 'delivered', m.dedup_key, null)) as delivered,
    count(distinct if(m.event_type = 'open' and not m.is_machine_open, m.dedup_key, null)) as opened,
    count(distinct if(m.event_type = 'click' and not m.is_scanner_click, m.dedup_key, null)) as clicked
  from message_events as m
  inner join lead_campaigns as c on c.contact_campaign_id = m.contact_campaign_id
  where m.tenant_id = @tenant_id and m.occurred_at >= @since and not m.is_duplicate
  group by c.lead_id
),

replies as (
  select
    c.lead_id,
    countif(not i.is_auto_reply) as replied
  from inbound_messages as i
  inner join lead_campaigns as c on c.contact_campaign_id = i.contact_campaign_id
  where i.tenant_id = @tenant_id and i.received_at >= @since
  group by c.lead_id
),

final as (
  select
    c.lead_id,
    coalesce(e.sent, 0) as sent,
    coalesce(e.delivered, 0) as delivered,
    coalesce(e.opened, 0) as opened,
    coalesce(e.clicked, 0) as clicked,
    coalesce(r.replied, 0) as replied
  from (select distinct lead_id from lead_campaigns) as c
  left join email_events as e on e.lead_id = c.lead_id
  left join replies as r on r.lead_id = c.lead_id
)

select * from final
order by lead_id;

-- name: planner_costs
-- params: tenant_id STRING, from_day DATE, to_day DATE
-- One row per outcome of the tenant's plan generations between two days (their partitions
-- only): how many, their tokens, and the estimated cost per 1,000 contacts.
select
  outcome,
  count(*) as generations,
  sum(model_calls) as model_calls,
  sum(prompt_tokens + output_tokens) as tokens,
  sum(cost_usd) as cost_usd,
  1000 * avg(cost_usd) as usd_per_1000_contacts
from plan_generations
where tenant_id = @tenant_id and date(planned_at) >= @from_day and date(planned_at) <= @to_day
group by outcome
order by outcome;
