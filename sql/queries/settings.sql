-- Queries of the settings service (oie.configuration): scoring weights, page rules, and the
-- preview of a weight change. Every one is filtered by @tenant_id.

-- name: scoring_config_of
-- params: tenant_id STRING
-- The tenant's own scoring row and the default ('*'); the service picks the tenant's when present.
select *
from scoring_config
where tenant_id = @tenant_id or tenant_id = '*';

-- name: page_rules_of
-- params: tenant_id STRING
-- The tenant's own page rules and the defaults ('*'), used when the tenant has none.
select tenant_id, page_class, path_pattern
from page_rules
where tenant_id = @tenant_id or tenant_id = '*'
order by page_class, path_pattern;

-- name: page_rules_clear
-- params: tenant_id STRING
-- Before a tenant's rules are written anew (never the defaults).
delete from page_rules
where tenant_id = @tenant_id and tenant_id != '*';

-- name: scoring_preview
-- params: recency_24h FLOAT64, recency_3d FLOAT64, recency_7d FLOAT64, recency_14d FLOAT64, recency_30d FLOAT64, recency_older FLOAT64, per_session FLOAT64, frequency_cap FLOAT64, per_pageview FLOAT64, per_active_minute FLOAT64, per_scroll_milestone FLOAT64, engagement_cap FLOAT64, per_pricing_view FLOAT64, per_case_study_view FLOAT64, per_product_view FLOAT64, high_intent_cap FLOAT64, per_form_submit FLOAT64, per_video_complete FLOAT64, conversion_cap FLOAT64, score_cap FLOAT64, burning_min FLOAT64, hot_min FLOAT64, warm_min FLOAT64, id_only_max_level STRING, tenant_id STRING
-- One row per (current level, level under the given weights) with its number of leads:
-- the score job's arithmetic over the facts each profile keeps (one row per lead of the
-- tenant, clustered by tenant), never the events. Recency is taken at the profile's
-- scored_at, as the stored level was, so unchanged weights change no level.
with profiles as (
  select *
  from lead_profiles
  where tenant_id = @tenant_id
),

components as (
  select
    p.level as from_level,
    coalesce(p.evidence_level = 'id_only', false) as is_id_only,
    case
      when p.last_activity_at > timestamp_sub(p.scored_at, interval 24 hour) then @recency_24h
      when p.last_activity_at > timestamp_sub(p.scored_at, interval 72 hour) then @recency_3d
      when p.last_activity_at > timestamp_sub(p.scored_at, interval 168 hour) then @recency_7d
      when p.last_activity_at > timestamp_sub(p.scored_at, interval 336 hour) then @recency_14d
      when p.last_activity_at > timestamp_sub(p.scored_at, interval 720 hour) then @recency_30d
      else @recency_older
    end as recency_points,
    least(@frequency_cap, p.sessions * @per_session) as frequency_points,
    least(
      @engagement_cap,
      p.pageviews * @per_pageview + p.active_minutes * @per_active_minute
      + p.scroll_milestones * @per_scroll_milestone
    ) as engagement_points,
    least(
      @high_intent_cap,
      p.pricing_views * @per_pricing_view + p.case_study_views * @per_case_study_view
      + p.product_views * @per_product_view
    ) as high_intent_points,
    least(@conversion_cap, p.forms_submitted * @per_form_submit + p.videos_completed * @per_video_complete)
      as conversion_points
  from profiles as p
),

scored as (
  select
    from_level,
    is_id_only,
    round(
      least(@score_cap, recency_points + frequency_points + engagement_points + high_intent_points + conversion_points),
      1
    ) as score
  from components
),

leveled as (
  select
    from_level,
    case
      when score >= @burning_min and (not is_id_only or @id_only_max_level = 'burning') then 'burning'
      when score >= @hot_min and (not is_id_only or @id_only_max_level in ('hot', 'burning')) then 'hot'
      when score >= @warm_min and (not is_id_only or @id_only_max_level != 'cold') then 'warm'
      else 'cold'
    end as to_level
  from scored
),

final as (
  select
    from_level,
    to_level,
    count(*) as leads
  from leveled
  group by from_level, to_level
)

select * from final
order by from_level, to_level;
