-- The console's Campaigns page: each campaign's funnel, read from the message_metrics
-- rollups (never from events) and the outcomes of the campaign's leads. Filtered by
-- @tenant_id, a partition range from @since, and at most @limit_rows campaigns.

-- name: console_campaign_funnels
-- params: tenant_id STRING, since DATE, limit_rows INT64
-- One row per campaign of the tenant with metrics since @since: sent, delivered, human
-- opens, human clicks, replies, site visits (sessions started), leads that became hot,
-- and the campaign's leads that reached an appointment (a mid-funnel stage or won) and won.
with metrics as (
  select
    d.campaign_id,
    sum(d.sent) as sent,
    sum(d.delivered) as delivered,
    sum(d.opened) as opened,
    sum(d.clicked) as clicked,
    sum(d.replied) as replied,
    sum(d.visits) as site_visits,
    sum(d.leads_turned_hot) as became_hot,
    max(d.day) as last_day
  from message_metrics_campaign_daily as d
  where d.tenant_id = @tenant_id and d.day >= @since
  group by d.campaign_id
),

ranked as (
  select m.*
  from metrics as m
  order by m.last_day desc, m.sent desc, m.campaign_id
  limit @limit_rows
),

campaign_leads as (
  select distinct
    i.campaign_id,
    i.lead_id
  from identity_map as i
  inner join ranked as r on r.campaign_id = i.campaign_id
  where i.tenant_id = @tenant_id
),

lead_stages as (
  select
    c.campaign_id,
    o.lead_id,
    o.outcome_stage
  from lead_outcomes as o
  inner join campaign_leads as c on c.lead_id = o.lead_id
  where o.tenant_id = @tenant_id and date(o.occurred_at) >= @since
),

outcomes as (
  select
    s.campaign_id,
    count(distinct if(s.outcome_stage in ('mid_funnel', 'won'), s.lead_id, null)) as appointments,
    count(distinct if(s.outcome_stage = 'won', s.lead_id, null)) as won
  from lead_stages as s
  group by s.campaign_id
),

final as (
  select
    r.campaign_id,
    r.sent,
    r.delivered,
    r.opened,
    r.clicked,
    r.replied,
    r.site_visits,
    r.became_hot,
    coalesce(o.appointments, 0) as appointments,
    coalesce(o.won, 0) as won,
    r.last_day
  from ranked as r
  left join outcomes as o on o.campaign_id = r.campaign_id
)

select * from final
order by last_day desc, sent desc, campaign_id;

-- name: console_variant_funnels
-- params: tenant_id STRING, limit_rows INT64
-- One row per variant of the tenant's A/B/n send nodes (variant_metrics: distinct contacts per
-- step) with the node's latest decision (experiment_decisions: metric, confidence, winner).
-- Bounded: the most recently sent @limit_rows variants.
with variants as (
  select
    v.campaign_id,
    v.node_id,
    v.variant_id,
    v.sent,
    v.delivered,
    v.opened,
    v.clicked,
    v.replied,
    v.became_hot,
    v.last_sent_at
  from variant_metrics as v
  where v.tenant_id = @tenant_id
  order by v.last_sent_at desc, v.campaign_id, v.node_id, v.variant_id
  limit @limit_rows
),

final as (
  select
    v.*,
    d.metric,
    d.confidence,
    d.min_per_variant,
    d.auto_winner,
    d.status,
    d.winner_variant_id,
    d.decided_at
  from variants as v
  left join experiment_decisions as d
    on d.tenant_id = @tenant_id and d.campaign_id = v.campaign_id and d.node_id = v.node_id
)

select * from final
order by campaign_id, node_id, variant_id;
