-- The score job's running totals (lead_aggregates, one row per tenant, lead and visitor)
-- follow the sessions they count when sessions are erased or expire. Called by the
-- retention job beside erase_sessions and retention_sessions.

-- name: erase_lead_aggregates
-- params: tenant_id STRING, lead_id STRING
-- The same rows erase_sessions removes: the lead's, and those of every visitor linked to it.
-- Runs before erase_visitor_leads, which it reads.
delete from lead_aggregates
where
  tenant_id = @tenant_id
  and (
    lead_id = @lead_id
    or visitor_id in (select visitor_id from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id)
  );

-- name: retention_lead_aggregates
-- params: tenant_id STRING, cutoff TIMESTAMP
-- After retention_sessions: each of the tenant's totals recounted from the settled sessions
-- it still has; a total with none left goes.
merge lead_aggregates as t
using (
  with kept_sessions as (
    select s.*
    from lead_aggregates as a
    inner join session_totals as s
      on s.tenant_id = a.tenant_id and s.lead_id = a.lead_id and s.visitor_id = a.visitor_id
    where a.tenant_id = @tenant_id and s.session_start >= @cutoff and s.session_start < a.settled_before
  ),

  kept as (
    select
      tenant_id,
      lead_id,
      visitor_id,
      sum(sessions) as sessions,
      sum(pageviews) as pageviews,
      sum(active_s) as active_s,
      sum(scroll_milestones) as scroll_milestones,
      sum(pricing_views) as pricing_views,
      sum(case_study_views) as case_study_views,
      sum(product_views) as product_views,
      sum(forms_submitted) as forms_submitted,
      sum(videos_completed) as videos_completed,
      sum(verified_sessions) as verified_sessions,
      sum(corroborated_sessions) as corroborated_sessions,
      min(first_seen_at) as first_seen_at,
      max(last_activity_at) as last_activity_at
    from kept_sessions
    group by tenant_id, lead_id, visitor_id
  )

  select * from kept
) as s
on t.tenant_id = s.tenant_id and t.lead_id = s.lead_id and t.visitor_id = s.visitor_id
when matched then update set
  sessions = s.sessions, pageviews = s.pageviews, active_s = s.active_s, scroll_milestones = s.scroll_milestones,
  pricing_views = s.pricing_views, case_study_views = s.case_study_views, product_views = s.product_views,
  forms_submitted = s.forms_submitted, videos_completed = s.videos_completed,
  verified_sessions = s.verified_sessions, corroborated_sessions = s.corroborated_sessions,
  first_seen_at = s.first_seen_at, last_activity_at = s.last_activity_at
when not matched by source and t.tenant_id = @tenant_id and t.first_seen_at < @cutoff then delete;
