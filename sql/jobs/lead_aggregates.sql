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
  with kept as (
    select
      a.tenant_id,
      a.lead_id,
      a.visitor_id,
      count(*) as sessions,
      sum(s.pageviews) as pageviews,
      sum(s.active_s) as active_s,
      sum(s.scroll_milestones) as scroll_milestones,
      sum(s.pricing_views) as pricing_views,
      sum(s.case_study_views) as case_study_views,
      sum(s.product_views) as product_views,
      sum(s.forms_submitted) as forms_submitted,
      sum(s.videos_completed) as videos_completed,
      countif(s.evidence = 'verified') as verified_sessions,
      countif(s.evidence = 'corroborated') as corroborated_sessions,
      min(s.session_start) as first_seen_at,
      max(s.session_end) as last_activity_at
    from lead_aggregates as a
    inner join sessions as s
      on s.tenant_id = a.tenant_id and s.lead_id = a.lead_id and s.visitor_id = a.visitor_id
    where a.tenant_id = @tenant_id and s.session_start >= @cutoff and s.session_start < a.settled_before
    group by a.tenant_id, a.lead_id, a.visitor_id
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
