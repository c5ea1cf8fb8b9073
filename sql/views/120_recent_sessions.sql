-- recent_sessions: one row per session that started in the last 24 hours (by the clock
-- of the query, current_timestamp()): who is on the site now, where they came in and
-- left, for how long, on what device, from which company, and the lead's current level.
-- Anonymous sessions are kept (lead_id null, is_identified false).
create or replace view recent_sessions as

with recent as (
  select *
  from sessions
  where session_start >= timestamp_sub(current_timestamp(), interval 24 hour)
),

final as (
  select
    s.tenant_id,
    s.session_id,
    s.lead_id,
    s.visitor_id,
    s.lead_id is not null as is_identified,
    s.session_start as started_at,
    s.session_end as ended_at,
    s.duration_s as duration_seconds,
    s.active_s as active_seconds,
    s.pageviews,
    s.entry_page,
    s.exit_page,
    s.pricing_views,
    s.case_study_views,
    s.product_views,
    s.forms_submitted,
    s.videos_completed,
    s.max_scroll as max_scroll_percent,
    s.device_type,
    s.browser,
    s.os,
    s.country,
    s.company_name,
    s.is_return_visit,
    p.score as intent_score,
    p.level as intent_level
  from recent as s
  left join lead_profiles as p on p.tenant_id = s.tenant_id and p.lead_id = s.lead_id
)

select * from final;
