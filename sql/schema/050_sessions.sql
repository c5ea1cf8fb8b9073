-- sessions: one row per (tenant, visitor, session): events of one visitor with no gap
-- longer than 30 minutes. session_id = visitor id + '-' + the session's start in unix ms,
-- so recomputing a session gives the same key. Written by the sessionize job (MERGE).
create table if not exists sessions (
  tenant_id string not null,
  session_id string not null,
  visitor_id string not null,
  lead_id string,
  session_start timestamp not null,
  session_end timestamp not null,
  duration_s int64 not null,
  active_s int64 not null,
  event_count int64 not null,
  pageviews int64 not null,
  clicks int64 not null,
  max_scroll int64 not null,
  scroll_milestones int64 not null,
  forms_started int64 not null,
  forms_submitted int64 not null,
  videos_played int64 not null,
  videos_completed int64 not null,
  pricing_views int64 not null,
  case_study_views int64 not null,
  product_views int64 not null,
  entry_page string,
  exit_page string,
  device_type string,
  browser string,
  os string,
  country string,
  company_name string,
  is_return_visit bool not null,
  updated_at timestamp not null
)
partition by date(session_start)
cluster by tenant_id, lead_id, visitor_id
options (partition_expiration_days = 730);

-- What proved the session's visitor is its lead (see "Trust" in the README): 'verified'
-- (a token /go signed for the lead's link), 'corroborated' (an expired such token, or a
-- /go click not flagged as a bot that handed out this visitor id) or 'id_only' (a tracking
-- id or a typed email alone); null while the session has no lead. Additive, for existing
-- tables.
alter table sessions add column if not exists evidence string;

-- Sessions written before evidence was kept get it once from their events, the same way
-- sessionize judges it; updated_at moves so the next score run rescores their leads
-- (recent ones: the score job reads 32 days). Later migrates find no session to fill.
update sessions as s
set evidence = proven.evidence, updated_at = current_timestamp()
from (
  with pending as (
    select tenant_id, session_id, visitor_id, lead_id, session_start, session_end
    from sessions
    where evidence is null and lead_id is not null
  ),

  proofs as (
    select
      p.tenant_id,
      p.session_id,
      logical_or(e.identity_status = 'verified' and m.lead_id is not null) as has_token,
      logical_or(e.identity_status = 'expired' and m.lead_id is not null) as has_expired_token
    from pending as p
    left join events as e
      on
        e.tenant_id = p.tenant_id
        and e.visitor_id = p.visitor_id
        and e.occurred_at between p.session_start and p.session_end
        and not e.is_bot
    left join identity_map as m
      on m.tenant_id = e.tenant_id and m.tracking_id = e.tracking_id and m.lead_id = p.lead_id
    group by p.tenant_id, p.session_id
  ),

  go_clicks as (
    select distinct p.tenant_id, p.session_id
    from pending as p
    inner join email_clicks as c
      on c.tenant_id = p.tenant_id and c.visitor_id = p.visitor_id and c.lead_id = p.lead_id
    where not c.is_bot
  ),

  final as (
    select
      p.tenant_id,
      p.session_id,
      case
        when p.has_token then 'verified'
        when p.has_expired_token or g.session_id is not null then 'corroborated'
        else 'id_only'
      end as evidence
    from proofs as p
    left join go_clicks as g on g.tenant_id = p.tenant_id and g.session_id = p.session_id
  )

  select * from final
) as proven
where s.tenant_id = proven.tenant_id and s.session_id = proven.session_id and s.evidence is null;
