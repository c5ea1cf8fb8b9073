-- The sessionize job: events received since the last run -> visitor_leads and sessions.
-- Incremental: only visitors with new events are touched, and only their events from
-- the start of their first session still open to the new events. @recent_from bounds the
-- events partitions read for the visitors whose scan starts within a day of the window;
-- a visitor with a late event (up to 30 days) reads the older partitions for itself alone,
-- from @scan_from, so one late event does not widen the run for everyone. Every statement
-- is a MERGE on deterministic keys, so a re-run or an overlapping run leaves the same rows.

-- name: sessionize_scope
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- How far back this run must read: per visitor, 30 minutes before its first new event,
-- or the start of its latest session that could absorb the new events, if earlier.
-- The visitors come as one array, unnested: a few thousand keys that the sessions lookup
-- probes (DuckDB builds its hash table on them, not on sessions).
with new_events as (
  select v.tenant_id, v.visitor_id, v.first_new_at, v.new_events
  from unnest((
    select
      array_agg(struct(
        n.tenant_id as tenant_id, n.visitor_id as visitor_id, n.first_new_at as first_new_at,
        n.new_events as new_events
      ))
    from (
      select tenant_id, visitor_id, min(occurred_at) as first_new_at, count(*) as new_events
      from events
      where received_at > @since and received_at <= @until and not is_bot
      group by tenant_id, visitor_id
    ) as n
  )) as v
),

-- A session can absorb a new event when it ends at most 30 minutes before it. On-time
-- visitors (first new event within a day of the window) read the sessions that ended in
-- that day only; the late ones (up to 30 days) the older partitions for themselves alone.
candidates as (
  select s.tenant_id, s.visitor_id, s.session_start
  from sessions as s
  inner join new_events as n on n.tenant_id = s.tenant_id and n.visitor_id = s.visitor_id
  where
    n.first_new_at >= timestamp_sub(@since, interval 1 day)
    and s.session_end >= timestamp_sub(n.first_new_at, interval 30 minute)
    -- Constant bounds, so BigQuery reads only recent partitions (sessions span < 2 days).
    and s.session_end >= timestamp_sub(@since, interval 1470 minute)
    and s.session_start >= timestamp_sub(@since, interval 3 day)
  union all
  select s.tenant_id, s.visitor_id, s.session_start
  from sessions as s
  inner join new_events as n on n.tenant_id = s.tenant_id and n.visitor_id = s.visitor_id
  where
    n.first_new_at < timestamp_sub(@since, interval 1 day)
    and s.session_end >= timestamp_sub(n.first_new_at, interval 30 minute)
    and s.session_start >= timestamp_sub(@since, interval 32 day)
),

open_sessions as (
  select tenant_id, visitor_id, min(session_start) as open_start
  from candidates
  group by tenant_id, visitor_id
),

starts as (
  select
    n.new_events,
    least(timestamp_sub(n.first_new_at, interval 30 minute), coalesce(o.open_start, n.first_new_at)) as scan_start
  from new_events as n
  left join open_sessions as o on o.tenant_id = n.tenant_id and o.visitor_id = n.visitor_id
),

final as (
  select
    count(*) as visitors,
    sum(new_events) as new_events,
    min(scan_start) as scan_from,
    -- the on-time visitors' bound (the window itself when every visitor is late)
    coalesce(
      min(case when scan_start >= timestamp_sub(@since, interval 1 day) then scan_start end),
      timestamp_sub(@since, interval 30 minute)
    ) as recent_from,
    countif(scan_start < timestamp_sub(@since, interval 1 day)) as late_visitors
  from starts
)

select * from final;

-- name: sessionize_rows_scanned
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP, scan_from TIMESTAMP, recent_from TIMESTAMP
-- The events rows this run reads for job_runs: every row of the recent partitions, and
-- the late visitors' own rows of the older ones.
with late as (
  select tenant_id, visitor_id
  from events
  where received_at > @since and received_at <= @until and not is_bot
  group by tenant_id, visitor_id
  having timestamp_sub(min(occurred_at), interval 30 minute) < @recent_from
),

final as (
  select
    (
      select count(*) from events
      where received_at >= timestamp_sub(@recent_from, interval 10 minute) and received_at <= @until
    )
    + (
      select count(*)
      from events as e
      inner join late as l on l.tenant_id = e.tenant_id and l.visitor_id = e.visitor_id
      where
        e.received_at >= timestamp_sub(@scan_from, interval 10 minute)
        and e.received_at < timestamp_sub(@recent_from, interval 10 minute)
    ) as rows_scanned
)

select * from final;

-- name: sessionize_visitor_leads
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP, scan_from TIMESTAMP, recent_from TIMESTAMP
-- Links visitors to leads: by the tracking id they carried (unless its proof was forged)
-- or by an email typed into a form whose hash belongs to a lead's link.
merge visitor_leads as t
using (
  -- The window's identifying events as one array, unnested (see sessionize_scope): the
  -- identity_map lookups and the visitor_leads target are probed by these keys.
  with new_events as (
    select k.tenant_id, k.visitor_id, k.tracking_id, k.email_sha256, k.identity_status, k.occurred_at
    from unnest((
      select
        array_agg(struct(
          e.tenant_id as tenant_id, e.visitor_id as visitor_id, e.tracking_id as tracking_id,
          e.email_sha256 as email_sha256, e.identity_status as identity_status, e.occurred_at as occurred_at
        ))
      from events as e
      where
        e.received_at > @since and e.received_at <= @until and not e.is_bot
        and (e.tracking_id is not null or e.email_sha256 is not null)
    )) as k
  ),

  by_link as (
    select e.tenant_id, e.visitor_id, m.lead_id, 'tracking_id' as source, min(e.occurred_at) as first_seen_at
    from new_events as e
    inner join identity_map as m on m.tenant_id = e.tenant_id and m.tracking_id = e.tracking_id
    where e.identity_status != 'forged'
    group by e.tenant_id, e.visitor_id, m.lead_id
  ),

  by_email as (
    select e.tenant_id, e.visitor_id, m.lead_id, 'email' as source, min(e.occurred_at) as first_seen_at
    from new_events as e
    inner join identity_map as m on m.tenant_id = e.tenant_id and m.email_sha256 = e.email_sha256
    group by e.tenant_id, e.visitor_id, m.lead_id
  ),

  links as (
    select * from by_link
    union all
    select * from by_email
  ),

  final as (
    select tenant_id, visitor_id, lead_id, min_by(source, first_seen_at) as source, min(first_seen_at) as first_seen_at
    from links
    group by tenant_id, visitor_id, lead_id
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.visitor_id = s.visitor_id and t.lead_id = s.lead_id
when matched and s.first_seen_at < t.first_seen_at then
  update set first_seen_at = s.first_seen_at, source = s.source
when not matched then
  insert (tenant_id, visitor_id, lead_id, source, first_seen_at)
  values (s.tenant_id, s.visitor_id, s.lead_id, s.source, s.first_seen_at);

-- name: sessionize_sessions
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP, scan_from TIMESTAMP, recent_from TIMESTAMP
-- Recomputes the affected visitors' sessions from their scan start; sessions of theirs
-- that no longer exist (a late event joined two) are removed in the same MERGE.
merge sessions as t
using (
  -- The window's visitors as one array, unnested (see sessionize_scope).
  with new_events as (
    select v.tenant_id, v.visitor_id, v.first_new_at
    from unnest((
      select array_agg(struct(n.tenant_id as tenant_id, n.visitor_id as visitor_id, n.first_new_at as first_new_at))
      from (
        select tenant_id, visitor_id, min(occurred_at) as first_new_at
        from events
        where received_at > @since and received_at <= @until and not is_bot
        group by tenant_id, visitor_id
      ) as n
    )) as v
  ),

  anchors as (
    select
      n.tenant_id,
      n.visitor_id,
      least(timestamp_sub(n.first_new_at, interval 30 minute), coalesce(min(s.session_start), n.first_new_at))
        as scan_start
    from new_events as n
    left join sessions as s
      on
        s.tenant_id = n.tenant_id
        and s.visitor_id = n.visitor_id
        and s.session_end >= timestamp_sub(n.first_new_at, interval 30 minute)
        -- Every visitor's first new event less 30 minutes is at or after the run's scan_from.
        and s.session_end >= @scan_from
        and s.session_start >= timestamp_sub(@scan_from, interval 2 day)
    group by n.tenant_id, n.visitor_id, n.first_new_at
  ),

  scoped as (
    select e.*
    from events as e
    inner join anchors as a on a.tenant_id = e.tenant_id and a.visitor_id = e.visitor_id
    where
      e.received_at >= timestamp_sub(@recent_from, interval 10 minute)
      and e.received_at <= @until
      and e.occurred_at >= a.scan_start
      and not e.is_bot
    union all
    -- A late visitor's events received before the recent partitions.
    select e.*
    from events as e
    inner join anchors as a on a.tenant_id = e.tenant_id and a.visitor_id = e.visitor_id
    where
      a.scan_start < @recent_from
      and e.received_at >= timestamp_sub(@scan_from, interval 10 minute)
      and e.received_at < timestamp_sub(@recent_from, interval 10 minute)
      and e.occurred_at >= a.scan_start
      and not e.is_bot
  ),

  deduplicated as (
    select *
    from scoped
    qualify row_number() over (partition by tenant_id, event_id order by received_at) = 1
  ),

  gaps as (
    select
      *,
      case
        when
          lag(occurred_at) over (partition by tenant_id, visitor_id order by occurred_at, event_id) is null
          or timestamp_diff(
            occurred_at, lag(occurred_at) over (partition by tenant_id, visitor_id order by occurred_at, event_id),
            second
          ) > 1800
          then 1
        else 0
      end as starts_session
    from deduplicated
  ),

  numbered as (
    select
      *,
      sum(starts_session) over (
        partition by tenant_id, visitor_id order by occurred_at, event_id rows between unbounded preceding and current row
      ) as session_number
    from gaps
  ),

  rules as (
    select r.tenant_id, r.page_class, r.path_pattern
    from page_rules as r
    where r.tenant_id != '*'
    union all
    select a.tenant_id, d.page_class, d.path_pattern
    from (select distinct tenant_id from anchors) as a
    cross join page_rules as d
    where d.tenant_id = '*' and a.tenant_id not in (select tenant_id from page_rules where tenant_id != '*')
  ),

  -- Each distinct path is matched once: a pattern taken from a column is compiled per row.
  paths as (
    select distinct tenant_id, page_path
    from numbered
    where event_type = 'pageview'
  ),

  path_classes as (
    select
      p.tenant_id,
      p.page_path,
      logical_or(r.page_class = 'pricing') as is_pricing,
      logical_or(r.page_class = 'case_study') as is_case_study,
      logical_or(r.page_class = 'product') as is_product
    from paths as p
    inner join rules as r on r.tenant_id = p.tenant_id and regexp_contains(p.page_path, r.path_pattern)
    group by p.tenant_id, p.page_path
  ),

  page_classes as (
    select n.tenant_id, n.event_id, c.is_pricing, c.is_case_study, c.is_product
    from numbered as n
    inner join path_classes as c on c.tenant_id = n.tenant_id and c.page_path = n.page_path
    where n.event_type = 'pageview'
  ),

  -- Each session's events by the lead their tracking id stands for, with the proof they carried.
  event_leads as (
    select
      n.tenant_id,
      n.visitor_id,
      n.session_number,
      m.lead_id,
      min(n.occurred_at) as first_at,
      logical_or(n.identity_status = 'verified') as has_token,
      logical_or(n.identity_status = 'expired') as has_expired_token
    from numbered as n
    inner join identity_map as m on m.tenant_id = n.tenant_id and m.tracking_id = n.tracking_id
    where n.identity_status != 'forged'
    group by n.tenant_id, n.visitor_id, n.session_number, m.lead_id
  ),

  session_links as (
    select tenant_id, visitor_id, session_number, min_by(lead_id, first_at) as lead_id
    from event_leads
    group by tenant_id, visitor_id, session_number
  ),

  -- /go clicks not flagged as bots that handed out one of these visitor ids: proof the
  -- visitor came through the lead's link even when its token did not come along.
  go_clicks as (
    select distinct c.tenant_id, c.visitor_id, c.lead_id
    from email_clicks as c
    inner join anchors as a on a.tenant_id = c.tenant_id and a.visitor_id = c.visitor_id
    where
      not c.is_bot
      -- A token lives 90 days; a constant bound lets BigQuery read recent partitions only.
      and c.clicked_at >= timestamp_sub(@scan_from, interval 90 day)
  ),

  visitor_first_lead as (
    select tenant_id, visitor_id, min_by(lead_id, first_seen_at) as lead_id
    from visitor_leads
    where visitor_id in (select visitor_id from anchors)
    group by tenant_id, visitor_id
  ),

  aggregated as (
    select
      n.tenant_id,
      n.visitor_id,
      n.session_number,
      min(n.occurred_at) as session_start,
      max(n.occurred_at) as session_end,
      count(*) as event_count,
      countif(n.event_type = 'pageview') as pageviews,
      countif(n.event_type = 'click') as clicks,
      coalesce(max(case when n.event_type = 'scroll' then safe_cast(json_value(n.props, '$.depth') as int64) end), 0)
        as max_scroll,
      countif(n.event_type = 'scroll') as scroll_milestones,
      countif(n.event_type = 'form_start') as forms_started,
      countif(n.event_type = 'form_submit') as forms_submitted,
      countif(n.event_type = 'video' and json_value(n.props, '$.action') = 'play') as videos_played,
      countif(n.event_type = 'video' and json_value(n.props, '$.action') = 'complete') as videos_completed,
      coalesce(
        sum(case when n.event_type = 'active_time' then safe_cast(json_value(n.props, '$.ms') as int64) end), 0
      ) as active_ms,
      countif(coalesce(p.is_pricing, false)) as pricing_views,
      countif(coalesce(p.is_case_study, false)) as case_study_views,
      countif(coalesce(p.is_product, false)) as product_views,
      min_by(n.page_path, n.occurred_at) as entry_page,
      max_by(n.page_path, n.occurred_at) as exit_page,
      min_by(n.device_type, n.occurred_at) as device_type,
      min_by(n.browser, n.occurred_at) as browser,
      min_by(n.os, n.occurred_at) as os,
      min_by(n.country, n.occurred_at) as country,
      min_by(n.company_name, n.occurred_at) as company_name,
      logical_or(n.event_type = 'return_visit' or coalesce(n.visit_number, 1) > 1) as is_return_visit
    from numbered as n
    left join page_classes as p on p.tenant_id = n.tenant_id and p.event_id = n.event_id
    group by n.tenant_id, n.visitor_id, n.session_number
  ),

  recomputed as (
    select
      a.tenant_id,
      concat(a.visitor_id, '-', cast(unix_millis(a.session_start) as string)) as session_id,
      a.visitor_id,
      coalesce(l.lead_id, v.lead_id) as lead_id,
      a.session_start,
      a.session_end,
      timestamp_diff(a.session_end, a.session_start, second) as duration_s,
      cast(div(a.active_ms, 1000) as int64) as active_s,
      a.event_count,
      a.pageviews,
      a.clicks,
      a.max_scroll,
      a.scroll_milestones,
      a.forms_started,
      a.forms_submitted,
      a.videos_played,
      a.videos_completed,
      a.pricing_views,
      a.case_study_views,
      a.product_views,
      a.entry_page,
      a.exit_page,
      a.device_type,
      a.browser,
      a.os,
      a.country,
      a.company_name,
      a.is_return_visit,
      -- What proved this visitor is the lead (README, "Trust"): the server's own proof, or none.
      case
        when p.has_token then 'verified'
        when p.has_expired_token or g.lead_id is not null then 'corroborated'
        when coalesce(l.lead_id, v.lead_id) is not null then 'id_only'
      end as evidence,
      false as is_tombstone
    from aggregated as a
    left join session_links as l
      on l.tenant_id = a.tenant_id and l.visitor_id = a.visitor_id and l.session_number = a.session_number
    left join visitor_first_lead as v on v.tenant_id = a.tenant_id and v.visitor_id = a.visitor_id
    left join event_leads as p
      on
        p.tenant_id = a.tenant_id
        and p.visitor_id = a.visitor_id
        and p.session_number = a.session_number
        and p.lead_id = coalesce(l.lead_id, v.lead_id)
    left join go_clicks as g
      on g.tenant_id = a.tenant_id and g.visitor_id = a.visitor_id and g.lead_id = coalesce(l.lead_id, v.lead_id)
  ),

  tombstones as (
    select
      s.tenant_id, s.session_id, s.visitor_id, s.lead_id, s.session_start, s.session_end, s.duration_s, s.active_s,
      s.event_count, s.pageviews, s.clicks, s.max_scroll, s.scroll_milestones, s.forms_started, s.forms_submitted,
      s.videos_played, s.videos_completed, s.pricing_views, s.case_study_views, s.product_views, s.entry_page,
      s.exit_page, s.device_type, s.browser, s.os, s.country, s.company_name, s.is_return_visit, s.evidence,
      true as is_tombstone
    from sessions as s
    inner join anchors as a on a.tenant_id = s.tenant_id and a.visitor_id = s.visitor_id
    where
      s.session_start >= a.scan_start
      and s.session_start >= timestamp_sub(@scan_from, interval 2 day)
      and s.session_id not in (select session_id from recomputed)
  ),

  final as (
    select * from recomputed
    union all
    select * from tombstones
  )

  select * from final
) as s
on
  t.tenant_id = s.tenant_id
  and t.session_id = s.session_id
  and t.session_start >= timestamp_sub(@scan_from, interval 2 day)
when matched and s.is_tombstone then delete
when matched then update set
  lead_id = s.lead_id, session_end = s.session_end, duration_s = s.duration_s, active_s = s.active_s,
  event_count = s.event_count, pageviews = s.pageviews, clicks = s.clicks, max_scroll = s.max_scroll,
  scroll_milestones = s.scroll_milestones, forms_started = s.forms_started, forms_submitted = s.forms_submitted,
  videos_played = s.videos_played, videos_completed = s.videos_completed, pricing_views = s.pricing_views,
  case_study_views = s.case_study_views, product_views = s.product_views, entry_page = s.entry_page,
  exit_page = s.exit_page, device_type = s.device_type, browser = s.browser, os = s.os, country = s.country,
  company_name = s.company_name, is_return_visit = s.is_return_visit, evidence = s.evidence, updated_at = @now
when not matched and not s.is_tombstone then insert (
  tenant_id, session_id, visitor_id, lead_id, session_start, session_end, duration_s, active_s, event_count,
  pageviews, clicks, max_scroll, scroll_milestones, forms_started, forms_submitted, videos_played, videos_completed,
  pricing_views, case_study_views, product_views, entry_page, exit_page, device_type, browser, os, country,
  company_name, is_return_visit, evidence, updated_at
) values (
  s.tenant_id, s.session_id, s.visitor_id, s.lead_id, s.session_start, s.session_end, s.duration_s, s.active_s,
  s.event_count, s.pageviews, s.clicks, s.max_scroll, s.scroll_milestones, s.forms_started, s.forms_submitted,
  s.videos_played, s.videos_completed, s.pricing_views, s.case_study_views, s.product_views, s.entry_page,
  s.exit_page, s.device_type, s.browser, s.os, s.country, s.company_name, s.is_return_visit, s.evidence, @now
);

-- name: sessionize_backfill_leads
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP, scan_from TIMESTAMP, recent_from TIMESTAMP
-- A visitor identified now (a link on the third visit, an email in a form) gets that lead
-- on its earlier, anonymous sessions too. Those carried no proof themselves ('id_only');
-- the score job lets a proven session of the same visitor vouch for them. Sessions that
-- started more than 32 days before the window are settled (lead_aggregates) and keep
-- their lead; the bound also keeps the read to recent partitions.
update sessions as s
set lead_id = v.lead_id, evidence = 'id_only', updated_at = @now
from (
  select tenant_id, visitor_id, min_by(lead_id, first_seen_at) as lead_id
  from visitor_leads
  -- the window's visitors as one array, unnested: visitor_leads is probed by them
  where visitor_id in unnest((
    select array_agg(distinct visitor_id) from events where received_at > @since and received_at <= @until
  ))
  group by tenant_id, visitor_id
) as v
where
  s.tenant_id = v.tenant_id and s.visitor_id = v.visitor_id and s.lead_id is null
  and s.session_start >= timestamp_sub(@since, interval 32 day);
