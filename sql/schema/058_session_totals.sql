-- session_totals: one row per session that has a lead, in the shape of lead_aggregates'
-- running totals (grain: tenant, lead, visitor, session). Every per-(tenant, lead, visitor)
-- total over sessions sums these rows: the score job (settling and rescoring), the
-- retention recount and lead_aggregates' one-time backfill, so what a session adds to a
-- total is written once. session_start is kept for the callers' bounds (partition pruning).
create or replace view session_totals as

with led as (
  select * from sessions where lead_id is not null
),

final as (
  select
    tenant_id,
    lead_id,
    visitor_id,
    session_id,
    session_start,
    1 as sessions,
    pageviews,
    active_s,
    scroll_milestones,
    pricing_views,
    case_study_views,
    product_views,
    forms_submitted,
    videos_completed,
    case when evidence = 'verified' then 1 else 0 end as verified_sessions,
    case when evidence = 'corroborated' then 1 else 0 end as corroborated_sessions,
    session_start as first_seen_at,
    session_end as last_activity_at
  from led
)

select * from final;
