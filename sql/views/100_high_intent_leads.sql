-- high_intent_leads: one row per (tenant, lead) at level hot or burning: who sales should
-- call now, why (each score component), and how they came (the lead's campaigns).
-- A lead imported into several campaigns shows the latest one it was added to as
-- campaign_id and every one of them in campaign_ids. Only corroborated leads (README,
-- "Trust"): the score job never lets an id-only lead be hot; this view checks again.
create or replace view high_intent_leads as

with hot_profiles as (
  select *
  from lead_profiles
  where level in ('hot', 'burning') and coalesce(evidence_level, 'scored before evidence') != 'id_only'
),

campaigns as (
  select
    tenant_id,
    lead_id,
    count(distinct campaign_id) as campaign_count,
    string_agg(distinct campaign_id, ', ' order by campaign_id) as campaign_ids
  from identity_map
  group by tenant_id, lead_id
),

latest_campaign as (
  select
    tenant_id,
    lead_id,
    campaign_id
  from identity_map
  qualify row_number() over (partition by tenant_id, lead_id order by created_at desc, campaign_id desc) = 1
),

latest_company as (
  select
    tenant_id,
    lead_id,
    company_name
  from sessions
  where lead_id is not null and company_name is not null
  qualify row_number() over (partition by tenant_id, lead_id order by session_start desc, session_id desc) = 1
),

final as (
  select
    p.tenant_id,
    p.lead_id,
    l.campaign_id,
    c.campaign_ids,
    coalesce(c.campaign_count, 0) as campaign_count,
    k.company_name,
    p.score as intent_score,
    p.level as intent_level,
    p.previous_level as previous_intent_level,
    p.level_changed_at,
    p.recency_points,
    p.frequency_points,
    p.engagement_points,
    p.high_intent_points,
    p.conversion_points,
    p.evidence_level,
    p.verified_sessions,
    p.corroborated_sessions,
    p.id_only_sessions,
    p.sessions,
    p.pageviews,
    p.active_minutes,
    p.pricing_views,
    p.case_study_views,
    p.product_views,
    p.forms_submitted,
    p.videos_completed,
    p.first_seen_at,
    p.last_activity_at,
    p.scored_at
  from hot_profiles as p
  left join latest_campaign as l on l.tenant_id = p.tenant_id and l.lead_id = p.lead_id
  left join campaigns as c on c.tenant_id = p.tenant_id and c.lead_id = p.lead_id
  left join latest_company as k on k.tenant_id = p.tenant_id and k.lead_id = p.lead_id
)

select * from final;
