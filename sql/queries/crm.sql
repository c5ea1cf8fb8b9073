-- Queries of CRM sync (oie/crm): what is written to each lead's CRM contact. The email is
-- not here (it lives in Firestore only); every query is filtered by tenant or by a window
-- of level changes, and bounded.

-- name: crm_level_changes
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- One row per level change recorded since the last crm_sync run (up or down: the
-- contact's level follows both), with the evidence a note shows. Ordered by change time so
-- a lead's latest change is written last.
with changes as (
  select
    c.change_id,
    c.tenant_id,
    c.lead_id,
    c.from_level,
    c.to_level,
    c.score,
    c.changed_at,
    c.evidence_level
  from lead_level_changes as c
  where c.changed_at > @since and c.changed_at <= @until
),

final as (
  select
    c.change_id,
    c.tenant_id,
    c.lead_id,
    c.from_level,
    c.to_level,
    c.score,
    c.changed_at,
    coalesce(c.evidence_level, p.evidence_level) as evidence_level,
    p.evidence_level as current_evidence_level,
    p.verified_sessions,
    p.corroborated_sessions,
    p.id_only_sessions
  from changes as c
  inner join lead_profiles as p on p.tenant_id = c.tenant_id and p.lead_id = c.lead_id
)

select * from final
order by changed_at, change_id;

-- name: crm_profiles
-- params: tenant_id STRING, lead_ids ARRAY<STRING>
-- One row per lead of @lead_ids: its current score, level and the stored components and
-- counters the reason words are made of (oie.console.reasons).
select
  lead_id,
  score,
  level,
  last_activity_at,
  frequency_points,
  engagement_points,
  high_intent_points,
  conversion_points,
  sessions,
  sessions_7d,
  pageviews,
  active_minutes,
  pricing_views,
  case_study_views,
  product_views,
  forms_submitted,
  videos_completed,
  level_cap_reason
from lead_profiles
where tenant_id = @tenant_id and lead_id in unnest(@lead_ids);

-- name: crm_profiles_scored
-- params: tenant_id STRING, since TIMESTAMP, until TIMESTAMP, limit_rows INT64
-- The daily reconciliation's leads: profiles of the tenant scored in (@since, @until], warm
-- or above (a cold lead the CRM never heard of needs no contact), most recent first.
select lead_id
from lead_profiles
where
  tenant_id = @tenant_id
  and scored_at > @since and scored_at <= @until
  and level in ('warm', 'hot', 'burning')
order by scored_at desc, lead_id
limit @limit_rows;

-- name: crm_top_pages
-- params: tenant_id STRING, lead_ids ARRAY<STRING>, since TIMESTAMP
-- Up to five most viewed page paths per lead since @since (the last 30 days), through the
-- lead's visitors: one partition range of events, clustered by tenant and visitor.
with visitors as (
  select distinct v.lead_id, v.visitor_id
  from visitor_leads as v
  where v.tenant_id = @tenant_id and v.lead_id in unnest(@lead_ids)
),

views as (
  select
    v.lead_id,
    e.page_path,
    count(*) as view_count
  from events as e
  inner join visitors as v on v.visitor_id = e.visitor_id
  where
    e.tenant_id = @tenant_id
    and e.received_at >= @since
    and e.event_type = 'pageview'
    and not e.is_bot
    and e.page_path is not null
  group by v.lead_id, e.page_path
),

final as (
  select
    lead_id,
    page_path,
    view_count,
    row_number() over (partition by lead_id order by view_count desc, page_path) as page_rank
  from views
)

select lead_id, page_path, view_count
from final
where page_rank <= 5
order by lead_id, page_rank;

-- name: crm_tracking_ids
-- params: tenant_id STRING, lead_ids ARRAY<STRING>
-- The latest tracking id each lead was given (its newest campaign link).
with ranked as (
  select
    lead_id,
    tracking_id,
    row_number() over (partition by lead_id order by created_at desc, tracking_id desc) as id_rank
  from identity_map
  where tenant_id = @tenant_id and lead_id in unnest(@lead_ids)
)

select lead_id, tracking_id
from ranked
where id_rank = 1;
