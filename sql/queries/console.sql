-- Queries of the console's read models (oie/console): the hot-leads list and one lead's
-- timeline. Every one is filtered by @tenant_id and bounded: a LIMIT, the tenant's
-- clustered rows, and a partition range on partitioned tables. None reads events except
-- console_session_events, which reads the visitors of at most a few sessions.

-- name: console_hot_leads
-- params: tenant_id STRING, levels ARRAY<STRING>, campaign_id STRING, active_since TIMESTAMP, lead_ids ARRAY<STRING>, filter_by_ids BOOL, present_since TIMESTAMP, limit_rows INT64
-- One row per lead of the page, ranked by level (burning, hot, warm, cold; an id-only
-- lead held at warm ranks as warm), then score, then the latest activity: the stored
-- components and counters the reason words are made of, the lead's latest campaign, and
-- whether a session of it ended after @present_since ("on site now", as of the last
-- sessionize run). Filters: @levels, @campaign_id ('' for any), @active_since (last seen),
-- @lead_ids when @filter_by_ids (a search or an owner, resolved in Firestore first).
with profiles as (
  select
    *,
    case level when 'burning' then 4 when 'hot' then 3 when 'warm' then 2 else 1 end as level_rank
  from lead_profiles
  where
    tenant_id = @tenant_id
    and level in unnest(@levels)
    and last_activity_at >= @active_since
    and (not @filter_by_ids or lead_id in unnest(@lead_ids))
),

campaign_leads as (
  select distinct lead_id
  from identity_map
  where tenant_id = @tenant_id and campaign_id = @campaign_id
),

ranked as (
  select p.*
  from profiles as p
  where @campaign_id = '' or p.lead_id in (select c.lead_id from campaign_leads as c)
  order by p.level_rank desc, p.score desc, p.last_activity_at desc, p.lead_id
  limit @limit_rows
),

latest_campaign as (
  select
    m.lead_id,
    m.campaign_id
  from identity_map as m
  inner join ranked as r on r.lead_id = m.lead_id
  where m.tenant_id = @tenant_id
  qualify row_number() over (partition by m.lead_id order by m.created_at desc, m.campaign_id desc) = 1
),

-- Sessions are cut by 30 minutes of inactivity: one still open started within a day.
present as (
  select
    s.lead_id,
    max(s.session_end) as last_session_end
  from sessions as s
  inner join ranked as r on r.lead_id = s.lead_id
  where
    s.tenant_id = @tenant_id
    and s.session_start >= timestamp_sub(@present_since, interval 1 day)
    and s.session_end >= @present_since
  group by s.lead_id
),

final as (
  select
    r.lead_id,
    r.level,
    r.level_rank,
    r.score,
    r.previous_level,
    r.level_changed_at,
    r.uncapped_level,
    r.level_cap_reason,
    r.evidence_level,
    r.recency_points,
    r.frequency_points,
    r.engagement_points,
    r.high_intent_points,
    r.conversion_points,
    r.sessions,
    r.sessions_7d,
    r.pageviews,
    r.active_minutes,
    r.scroll_milestones,
    r.pricing_views,
    r.case_study_views,
    r.product_views,
    r.forms_submitted,
    r.videos_completed,
    r.first_seen_at,
    r.last_activity_at,
    r.scored_at,
    c.campaign_id,
    p.last_session_end is not null as on_site_now,
    greatest(r.last_activity_at, coalesce(p.last_session_end, r.last_activity_at)) as last_seen_at
  from ranked as r
  left join latest_campaign as c on c.lead_id = r.lead_id
  left join present as p on p.lead_id = r.lead_id
)

select * from final
order by level_rank desc, score desc, last_activity_at desc, lead_id;

-- name: console_score_history
-- params: tenant_id STRING, lead_ids ARRAY<STRING>, from_day DATE, to_day DATE
-- The daily score snapshots of some leads between two days (the partitions of that range
-- only), oldest first. A day without a row kept the score of the row before it.
select
  lead_id,
  day,
  score,
  level,
  recency_points,
  frequency_points,
  engagement_points,
  high_intent_points,
  conversion_points,
  evidence_level
from lead_score_history
where
  tenant_id = @tenant_id
  and lead_id in unnest(@lead_ids)
  and day >= @from_day
  and day <= @to_day
order by lead_id, day;

-- name: console_lead_sessions
-- params: tenant_id STRING, lead_id STRING, since TIMESTAMP, limit_rows INT64
-- A lead's latest sessions since @since (partitions from then on), newest first, with
-- the evidence that tied each visitor to the lead.
select
  session_id,
  visitor_id,
  session_start,
  session_end,
  duration_s,
  active_s,
  pageviews,
  clicks,
  max_scroll,
  forms_started,
  forms_submitted,
  videos_played,
  videos_completed,
  pricing_views,
  case_study_views,
  product_views,
  entry_page,
  exit_page,
  device_type,
  browser,
  country,
  company_name,
  evidence
from sessions
where tenant_id = @tenant_id and lead_id = @lead_id and session_start >= @since
order by session_start desc, session_id
limit @limit_rows;

-- name: console_session_events
-- params: tenant_id STRING, visitor_ids ARRAY<STRING>, from_at TIMESTAMP, to_at TIMESTAMP, limit_rows INT64
-- The events of a few visitors between two times (the span of the sessions shown), bots
-- left out. Bounded three ways: the tenant's and visitors' clustered blocks, the partitions
-- the events can have been received in (from a little before @from_at, as a browser
-- clock may run fast, to 31 days after @to_at, as the pixel retries stored batches for 30
-- days), and a LIMIT.
select
  event_id,
  visitor_id,
  event_type,
  occurred_at,
  page_path,
  identity_status,
  to_json_string(props) as props_json
from events
where
  tenant_id = @tenant_id
  and visitor_id in unnest(@visitor_ids)
  and received_at >= timestamp_sub(@from_at, interval 1 hour)
  and received_at <= timestamp_add(@to_at, interval 31 day)
  and occurred_at >= @from_at
  and occurred_at <= @to_at
  and not is_bot
order by occurred_at, event_id
limit @limit_rows;

-- name: console_lead_messages
-- params: tenant_id STRING, contact_campaign_ids ARRAY<STRING>, since TIMESTAMP, limit_rows INT64
-- The events about the lead's outbound messages since @since (its contact campaigns'
-- clustered blocks in the partitions from then on), each event once (dedup_key), newest
-- first; machine opens and scanner clicks are flagged, never dropped.
select
  dedup_key,
  occurred_at,
  event_type,
  source,
  campaign_id,
  contact_campaign_id,
  node_id,
  oie_message_id,
  url,
  reason,
  is_machine_open,
  is_scanner_click
from message_events
where
  tenant_id = @tenant_id
  and contact_campaign_id in unnest(@contact_campaign_ids)
  and occurred_at >= @since
  and not is_duplicate
qualify row_number() over (partition by dedup_key order by received_at, row_id) = 1
order by occurred_at desc, dedup_key
limit @limit_rows;

-- name: console_lead_changes
-- params: tenant_id STRING, lead_id STRING, since TIMESTAMP, limit_rows INT64
-- The lead's level changes since @since (the moments hot-lead alerts are sent for), newest first.
select
  change_id,
  from_level,
  to_level,
  score,
  evidence_level,
  changed_at
from lead_level_changes
where tenant_id = @tenant_id and lead_id = @lead_id and changed_at >= @since
order by changed_at desc, change_id
limit @limit_rows;

-- name: console_lead_identity
-- params: tenant_id STRING, lead_id STRING, limit_rows INT64
-- One row per visitor linked to the lead (how: tracking id or form email), with the other
-- leads the same visitor is linked to (an identity conflict: a forwarded email, a shared
-- computer), none when there is no conflict. The tenant's clustered visitor_leads only.
with own as (
  select
    visitor_id,
    source,
    first_seen_at
  from visitor_leads
  where tenant_id = @tenant_id and lead_id = @lead_id
  order by first_seen_at desc, visitor_id
  limit @limit_rows
),

others as (
  select
    v.visitor_id,
    v.lead_id as other_lead_id
  from visitor_leads as v
  inner join own as o on o.visitor_id = v.visitor_id
  where v.tenant_id = @tenant_id and v.lead_id != @lead_id
),

final as (
  select
    o.visitor_id,
    o.source,
    o.first_seen_at,
    x.other_lead_id
  from own as o
  left join others as x on x.visitor_id = o.visitor_id
)

select * from final
order by first_seen_at, visitor_id, other_lead_id;

-- name: console_lead_campaigns
-- params: tenant_id STRING, lead_id STRING, limit_rows INT64
-- The campaigns the lead was imported into (its tracking links), newest first.
select
  campaign_id,
  min(created_at) as added_at
from identity_map
where tenant_id = @tenant_id and lead_id = @lead_id
group by campaign_id
order by added_at desc, campaign_id
limit @limit_rows;

-- name: console_level_counts
-- params: tenant_id STRING
-- One row per intent level the tenant's leads are at now (the page's distribution chart):
-- the tenant's cluster of lead_profiles, one row per lead.
select
  level,
  count(*) as leads
from lead_profiles
where tenant_id = @tenant_id
group by level
order by level;

-- name: console_hot_per_day
-- params: tenant_id STRING, from_day DATE, to_day DATE
-- One row per day from @from_day to @to_day on which leads rose to hot or burning (the
-- page's per-day chart): the partitions of those days only.
with rises as (
  select
    date(changed_at) as day,
    lead_id
  from lead_level_changes
  where
    tenant_id = @tenant_id
    and date(changed_at) >= @from_day
    and date(changed_at) <= @to_day
    and to_level in ('hot', 'burning')
),

final as (
  select
    day,
    count(distinct lead_id) as leads
  from rises
  group by day
)

select * from final
order by day;

-- name: console_campaign_ids
-- params: tenant_id STRING, limit_rows INT64
-- The tenant's campaigns, newest first (the campaign filter's choices).
select
  campaign_id,
  max(created_at) as added_at
from identity_map
where tenant_id = @tenant_id
group by campaign_id
order by added_at desc, campaign_id
limit @limit_rows;
