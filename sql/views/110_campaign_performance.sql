-- campaign_performance: one row per (tenant, campaign): the funnel from leads imported to
-- hot leads. Each step counts distinct leads of the campaign (identity_map): clicked (at
-- least one human click on the campaign's links, email_click_quality.is_human), visited
-- (any session), engaged (level warm, hot or burning) and hot (hot or burning). Visits,
-- levels and scores belong to a lead, not to a campaign: a lead in two campaigns counts
-- in both. Each rate divides a step by the step before, so visit_rate can pass 1 (a
-- lead identified by a form email, or whose only click looked like a scanner, still
-- visits). Outcomes (replies, meetings, deals) are left out until lead_outcomes exists.
create or replace view campaign_performance as

with campaign_leads as (
  select distinct
    tenant_id,
    campaign_id,
    lead_id
  from identity_map
),

campaign_dates as (
  select
    tenant_id,
    campaign_id,
    min(created_at) as first_lead_added_at,
    max(created_at) as last_lead_added_at
  from identity_map
  group by tenant_id, campaign_id
),

human_clicks as (
  select
    tenant_id,
    campaign_id,
    lead_id,
    count(*) as human_clicks,
    min(clicked_at) as first_clicked_at
  from email_click_quality
  where is_human and lead_id is not null and campaign_id is not null
  group by tenant_id, campaign_id, lead_id
),

all_clicks as (
  select
    tenant_id,
    campaign_id,
    count(*) as total_clicks,
    countif(not is_human) as bot_clicks
  from email_click_quality
  where campaign_id is not null
  group by tenant_id, campaign_id
),

visited as (
  select distinct
    tenant_id,
    lead_id
  from sessions
  where lead_id is not null
),

funnel as (
  select
    l.tenant_id,
    l.campaign_id,
    count(*) as leads,
    countif(h.lead_id is not null) as leads_clicked,
    coalesce(sum(h.human_clicks), 0) as human_clicks,
    countif(v.lead_id is not null) as leads_visited,
    countif(coalesce(p.level, 'unscored') in ('warm', 'hot', 'burning')) as leads_engaged,
    countif(coalesce(p.level, 'unscored') in ('hot', 'burning')) as leads_hot,
    min(h.first_clicked_at) as first_human_click_at
  from campaign_leads as l
  left join human_clicks as h
    on h.tenant_id = l.tenant_id and h.campaign_id = l.campaign_id and h.lead_id = l.lead_id
  left join visited as v on v.tenant_id = l.tenant_id and v.lead_id = l.lead_id
  left join lead_profiles as p on p.tenant_id = l.tenant_id and p.lead_id = l.lead_id
  group by l.tenant_id, l.campaign_id
),

final as (
  select
    f.tenant_id,
    f.campaign_id,
    d.first_lead_added_at,
    d.last_lead_added_at,
    f.leads,
    f.leads_clicked,
    f.human_clicks,
    coalesce(a.bot_clicks, 0) as bot_clicks,
    coalesce(a.total_clicks, 0) as total_clicks,
    f.leads_visited,
    f.leads_engaged,
    f.leads_hot,
    safe_divide(f.leads_clicked, f.leads) as click_rate,
    safe_divide(f.leads_visited, f.leads_clicked) as visit_rate,
    safe_divide(f.leads_engaged, f.leads_visited) as engaged_rate,
    safe_divide(f.leads_hot, f.leads_engaged) as hot_rate,
    safe_divide(f.leads_hot, f.leads) as hot_lead_rate,
    f.first_human_click_at
  from funnel as f
  inner join campaign_dates as d on d.tenant_id = f.tenant_id and d.campaign_id = f.campaign_id
  left join all_clicks as a on a.tenant_id = f.tenant_id and a.campaign_id = f.campaign_id
)

select * from final;
