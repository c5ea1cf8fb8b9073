-- The score job: sessions -> lead_profiles. Leads whose sessions changed since the last
-- run are rescored from their running totals (lead_aggregates: sessions settled 40 days
-- after they start) plus their sessions since; every profile's recency is then refreshed
-- to @now (a lookup on lead_profiles, not on events). Components are kept, so anyone can
-- see why a lead is hot. Levels that change are stamped, and recorded in lead_level_changes.
-- The day's score of every profile a run touched is kept in lead_score_history (trends).
-- The trust rule (README, "Trust"): a lead whose only evidence is an id keeps its full
-- score but its level is held at scoring_config.id_only_max_level (warm); the evidence and
-- the reason are kept beside the components.

-- name: score_settle_sessions
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- Adds the sessions that settled during the window (started in the window less 40
-- days) to their (lead, visitor) totals. A row counts only sessions before its own
-- settled_before, so a re-run or an overlapping window adds nothing twice.
merge lead_aggregates as t
using (
  -- The settling (lead, visitor) pairs as one array, unnested: the keys this run touches,
  -- by which lead_aggregates is probed (here and as the MERGE target), whatever its size.
  with settling_keys as (
    select k.tenant_id, k.lead_id, k.visitor_id
    from unnest((
      select array_agg(struct(p.tenant_id as tenant_id, p.lead_id as lead_id, p.visitor_id as visitor_id))
      from (
        select distinct tenant_id, lead_id, visitor_id
        from sessions
        where
          lead_id is not null
          and session_start >= timestamp_sub(@since, interval 40 day)
          and session_start < timestamp_sub(@until, interval 40 day)
      ) as p
    )) as k
  ),

  settling as (
    select s.*
    from settling_keys as k
    inner join session_totals as s
      on s.tenant_id = k.tenant_id and s.lead_id = k.lead_id and s.visitor_id = k.visitor_id
    left join lead_aggregates as a
      on a.tenant_id = k.tenant_id and a.lead_id = k.lead_id and a.visitor_id = k.visitor_id
    where
      s.session_start >= timestamp_sub(@since, interval 40 day)
      and s.session_start < timestamp_sub(@until, interval 40 day)
      and (a.settled_before is null or s.session_start >= a.settled_before)
  ),

  final as (
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
    from settling
    group by tenant_id, lead_id, visitor_id
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.lead_id = s.lead_id and t.visitor_id = s.visitor_id
when matched then update set
  settled_before = greatest(t.settled_before, timestamp_sub(@until, interval 40 day)),
  sessions = t.sessions + s.sessions, pageviews = t.pageviews + s.pageviews, active_s = t.active_s + s.active_s,
  scroll_milestones = t.scroll_milestones + s.scroll_milestones, pricing_views = t.pricing_views + s.pricing_views,
  case_study_views = t.case_study_views + s.case_study_views, product_views = t.product_views + s.product_views,
  forms_submitted = t.forms_submitted + s.forms_submitted, videos_completed = t.videos_completed + s.videos_completed,
  verified_sessions = t.verified_sessions + s.verified_sessions,
  corroborated_sessions = t.corroborated_sessions + s.corroborated_sessions,
  first_seen_at = least(t.first_seen_at, s.first_seen_at),
  last_activity_at = greatest(t.last_activity_at, s.last_activity_at), updated_at = @now
when not matched then insert (
  tenant_id, lead_id, visitor_id, settled_before, sessions, pageviews, active_s, scroll_milestones, pricing_views,
  case_study_views, product_views, forms_submitted, videos_completed, verified_sessions, corroborated_sessions,
  first_seen_at, last_activity_at, updated_at
) values (
  s.tenant_id, s.lead_id, s.visitor_id, timestamp_sub(@until, interval 40 day), s.sessions, s.pageviews, s.active_s,
  s.scroll_milestones, s.pricing_views, s.case_study_views, s.product_views, s.forms_submitted, s.videos_completed,
  s.verified_sessions, s.corroborated_sessions, s.first_seen_at, s.last_activity_at, @now
);

-- name: score_leads
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
merge lead_profiles as t
using (
  -- Every lead touched by a sessionize run has a session that started recently (a lead
  -- stitched onto old sessions has its new one too), so a constant bound on session_start
  -- lets BigQuery read recent partitions only.
  -- The affected leads as one array, unnested: the keys the run touches, a few thousand at
  -- most, which every lookup below probes (DuckDB then builds its hash tables on these keys,
  -- not on lead_profiles or lead_aggregates, so the work does not grow with the history).
  with affected as (
    select k.tenant_id, k.lead_id
    from unnest((
      select array_agg(struct(c.tenant_id as tenant_id, c.lead_id as lead_id))
      from (
        select distinct tenant_id, lead_id
        from sessions
        where
          updated_at > @since and updated_at <= @until and lead_id is not null
          and session_start >= timestamp_sub(@since, interval 32 day)
      ) as c
    )) as k
  ),

  settled as (
    select a.*
    from lead_aggregates as a
    inner join affected as f on f.tenant_id = a.tenant_id and f.lead_id = a.lead_id
  ),

  -- The affected leads' sessions of the last 40 days before the window: everything not yet
  -- settled, and the week before their last visit (which started after the window less 32 days).
  open_sessions as (
    select s.*
    from session_totals as s
    inner join affected as f on f.tenant_id = s.tenant_id and f.lead_id = s.lead_id
    where s.session_start >= timestamp_sub(@since, interval 40 day)
  ),

  unsettled as (
    select s.*
    from open_sessions as s
    left join settled as a
      on a.tenant_id = s.tenant_id and a.lead_id = s.lead_id and a.visitor_id = s.visitor_id
    where a.settled_before is null or s.session_start >= a.settled_before
  ),

  -- One row per (tenant, lead, visitor): the settled totals plus the unsettled sessions.
  visitor_totals as (
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
    from (
      select * except (settled_before, updated_at) from settled
      union all
      select * except (session_id, session_start) from unsettled
    ) as parts
    group by tenant_id, lead_id, visitor_id
  ),

  -- One row per (tenant, lead, visitor): the visitor's best proof over its sessions, so one
  -- verified visit vouches for the same visitor's visits without a token (0 id only,
  -- 1 corroborated, 2 verified).
  visitor_evidence as (
    select
      tenant_id,
      lead_id,
      visitor_id,
      case when verified_sessions > 0 then 2 when corroborated_sessions > 0 then 1 else 0 end as evidence_rank,
      sessions
    from visitor_totals
  ),

  -- One row per (tenant, lead): the lead's best proof over its visitors, and its sessions
  -- counted by their visitor's proof.
  lead_evidence as (
    select
      tenant_id,
      lead_id,
      max(evidence_rank) as evidence_rank,
      sum(case when evidence_rank = 2 then sessions else 0 end) as verified_sessions,
      sum(case when evidence_rank = 1 then sessions else 0 end) as corroborated_sessions,
      sum(case when evidence_rank = 0 then sessions else 0 end) as id_only_sessions
    from visitor_evidence
    group by tenant_id, lead_id
  ),

  facts as (
    select
      v.tenant_id,
      v.lead_id,
      sum(v.sessions) as sessions,
      sum(v.pageviews) as pageviews,
      sum(v.active_s) / 60.0 as active_minutes,
      sum(v.scroll_milestones) as scroll_milestones,
      sum(v.pricing_views) as pricing_views,
      sum(v.case_study_views) as case_study_views,
      sum(v.product_views) as product_views,
      sum(v.forms_submitted) as forms_submitted,
      sum(v.videos_completed) as videos_completed,
      min(v.first_seen_at) as first_seen_at,
      max(v.last_activity_at) as last_activity_at
    from visitor_totals as v
    group by v.tenant_id, v.lead_id
  ),

  -- Sessions in the 7 days up to the last visit (the console's "2 sessions this week"):
  -- relative to the lead's own last activity, so it never goes stale between runs. The last
  -- visit is after the window less 32 days, so the week lies inside open_sessions.
  last_week as (
    select
      f.tenant_id,
      f.lead_id,
      countif(s.session_start >= timestamp_sub(f.last_activity_at, interval 168 hour)) as sessions_7d
    from facts as f
    left join open_sessions as s on s.tenant_id = f.tenant_id and s.lead_id = f.lead_id
    group by f.tenant_id, f.lead_id
  ),

  config as (
    select f.tenant_id, coalesce(own.tenant_id, '*') as config_of
    from (select distinct tenant_id from facts) as f
    left join scoring_config as own on own.tenant_id = f.tenant_id
  ),

  components as (
    select
      f.*,
      w.sessions_7d,
      case
        when f.last_activity_at > timestamp_sub(@now, interval 24 hour) then c.recency_24h
        when f.last_activity_at > timestamp_sub(@now, interval 72 hour) then c.recency_3d
        when f.last_activity_at > timestamp_sub(@now, interval 168 hour) then c.recency_7d
        when f.last_activity_at > timestamp_sub(@now, interval 336 hour) then c.recency_14d
        when f.last_activity_at > timestamp_sub(@now, interval 720 hour) then c.recency_30d
        else c.recency_older
      end as recency_points,
      least(c.frequency_cap, f.sessions * c.per_session) as frequency_points,
      least(
        c.engagement_cap,
        f.pageviews * c.per_pageview + f.active_minutes * c.per_active_minute
        + f.scroll_milestones * c.per_scroll_milestone
      ) as engagement_points,
      least(
        c.high_intent_cap,
        f.pricing_views * c.per_pricing_view + f.case_study_views * c.per_case_study_view
        + f.product_views * c.per_product_view
      ) as high_intent_points,
      least(c.conversion_cap, f.forms_submitted * c.per_form_submit + f.videos_completed * c.per_video_complete)
        as conversion_points,
      c.score_cap,
      c.burning_min,
      c.hot_min,
      c.warm_min,
      coalesce(c.id_only_max_level, 'warm') as id_only_max_level
    from facts as f
    inner join last_week as w on w.tenant_id = f.tenant_id and w.lead_id = f.lead_id
    inner join config as k on k.tenant_id = f.tenant_id
    inner join scoring_config as c on c.tenant_id = k.config_of
  ),

  scored as (
    select
      *,
      round(
        least(score_cap, recency_points + frequency_points + engagement_points + high_intent_points + conversion_points),
        1
      ) as score
    from components
  ),

  evidenced as (
    select
      s.*,
      e.verified_sessions,
      e.corroborated_sessions,
      e.id_only_sessions,
      case e.evidence_rank when 2 then 'verified' when 1 then 'corroborated' else 'id_only' end as evidence_level,
      e.evidence_rank = 0 as is_id_only,
      case
        when s.score >= s.burning_min then 'burning'
        when s.score >= s.hot_min then 'hot'
        when s.score >= s.warm_min then 'warm'
        else 'cold'
      end as uncapped_level
    from scored as s
    inner join lead_evidence as e on e.tenant_id = s.tenant_id and e.lead_id = s.lead_id
  ),

  -- A level above the cap needs corroboration; up to it, the score alone decides.
  capped as (
    select
      *,
      case
        when score >= burning_min and (not is_id_only or id_only_max_level = 'burning') then 'burning'
        when score >= hot_min and (not is_id_only or id_only_max_level in ('hot', 'burning')) then 'hot'
        when score >= warm_min and (not is_id_only or id_only_max_level != 'cold') then 'warm'
        else 'cold'
      end as level
    from evidenced
  ),

  final as (
    select
      *,
      case
        when level != uncapped_level then concat('id_only: no /go click or verified token; held at ', level)
      end as level_cap_reason
    from capped
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.lead_id = s.lead_id
when matched then update set
  sessions = s.sessions, pageviews = s.pageviews, active_minutes = s.active_minutes,
  scroll_milestones = s.scroll_milestones, pricing_views = s.pricing_views, case_study_views = s.case_study_views,
  product_views = s.product_views, forms_submitted = s.forms_submitted, videos_completed = s.videos_completed,
  first_seen_at = s.first_seen_at, last_activity_at = s.last_activity_at, recency_points = s.recency_points,
  frequency_points = s.frequency_points, engagement_points = s.engagement_points,
  high_intent_points = s.high_intent_points, conversion_points = s.conversion_points, score = s.score,
  previous_level = case when s.level != t.level then t.level else t.previous_level end,
  level_changed_at = case when s.level != t.level then @now else t.level_changed_at end,
  level = s.level, evidence_level = s.evidence_level, verified_sessions = s.verified_sessions,
  corroborated_sessions = s.corroborated_sessions, id_only_sessions = s.id_only_sessions,
  uncapped_level = s.uncapped_level, level_cap_reason = s.level_cap_reason, sessions_7d = s.sessions_7d,
  scored_at = @now
when not matched then insert (
  tenant_id, lead_id, sessions, pageviews, active_minutes, scroll_milestones, pricing_views, case_study_views,
  product_views, forms_submitted, videos_completed, first_seen_at, last_activity_at, recency_points,
  frequency_points, engagement_points, high_intent_points, conversion_points, score, level, previous_level,
  level_changed_at, evidence_level, verified_sessions, corroborated_sessions, id_only_sessions, uncapped_level,
  level_cap_reason, sessions_7d, scored_at
) values (
  s.tenant_id, s.lead_id, s.sessions, s.pageviews, s.active_minutes, s.scroll_milestones, s.pricing_views,
  s.case_study_views, s.product_views, s.forms_submitted, s.videos_completed, s.first_seen_at, s.last_activity_at,
  s.recency_points, s.frequency_points, s.engagement_points, s.high_intent_points, s.conversion_points, s.score,
  s.level, null, @now, s.evidence_level, s.verified_sessions, s.corroborated_sessions, s.id_only_sessions,
  s.uncapped_level, s.level_cap_reason, s.sessions_7d, @now
);

-- name: score_refresh_recency
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- Recency decays with time alone. Only profiles whose last activity crossed a band edge
-- (24 h, 3, 7, 14 or 30 days) between the last run and @now can change: read those.
merge lead_profiles as t
using (
  with candidates as (
    select *
    from lead_profiles
    where
      (last_activity_at > timestamp_sub(@since, interval 24 hour)
        and last_activity_at <= timestamp_sub(@now, interval 24 hour))
      or (last_activity_at > timestamp_sub(@since, interval 72 hour)
        and last_activity_at <= timestamp_sub(@now, interval 72 hour))
      or (last_activity_at > timestamp_sub(@since, interval 168 hour)
        and last_activity_at <= timestamp_sub(@now, interval 168 hour))
      or (last_activity_at > timestamp_sub(@since, interval 336 hour)
        and last_activity_at <= timestamp_sub(@now, interval 336 hour))
      or (last_activity_at > timestamp_sub(@since, interval 720 hour)
        and last_activity_at <= timestamp_sub(@now, interval 720 hour))
  ),

  configured as (
    select tenant_id from scoring_config where tenant_id != '*'
  ),

  recency as (
    select
      p.tenant_id,
      p.lead_id,
      case
        when p.last_activity_at > timestamp_sub(@now, interval 24 hour) then c.recency_24h
        when p.last_activity_at > timestamp_sub(@now, interval 72 hour) then c.recency_3d
        when p.last_activity_at > timestamp_sub(@now, interval 168 hour) then c.recency_7d
        when p.last_activity_at > timestamp_sub(@now, interval 336 hour) then c.recency_14d
        when p.last_activity_at > timestamp_sub(@now, interval 720 hour) then c.recency_30d
        else c.recency_older
      end as recency_points,
      p.frequency_points + p.engagement_points + p.high_intent_points + p.conversion_points as other_points,
      p.recency_points as old_recency,
      coalesce(p.evidence_level = 'id_only', false) as is_id_only,
      c.score_cap,
      c.burning_min,
      c.hot_min,
      c.warm_min,
      coalesce(c.id_only_max_level, 'warm') as id_only_max_level
    from candidates as p
    inner join scoring_config as c
      on
        c.tenant_id = p.tenant_id
        or (c.tenant_id = '*' and p.tenant_id not in (select tenant_id from configured))
  ),

  rescored as (
    select
      *,
      round(least(score_cap, recency_points + other_points), 1) as score
    from recency
    where recency_points != old_recency
  ),

  -- The same cap as score_leads, on the evidence the profile keeps. A profile scored before
  -- evidence was kept (null) is left uncapped: decay only lowers a score, so its level
  -- cannot rise here.
  capped as (
    select
      *,
      case
        when score >= burning_min then 'burning'
        when score >= hot_min then 'hot'
        when score >= warm_min then 'warm'
        else 'cold'
      end as uncapped_level,
      case
        when score >= burning_min and (not is_id_only or id_only_max_level = 'burning') then 'burning'
        when score >= hot_min and (not is_id_only or id_only_max_level in ('hot', 'burning')) then 'hot'
        when score >= warm_min and (not is_id_only or id_only_max_level != 'cold') then 'warm'
        else 'cold'
      end as level
    from rescored
  ),

  final as (
    select
      tenant_id,
      lead_id,
      recency_points,
      score,
      level,
      uncapped_level,
      case
        when level != uncapped_level then concat('id_only: no /go click or verified token; held at ', level)
      end as level_cap_reason
    from capped
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.lead_id = s.lead_id
when matched then update set
  recency_points = s.recency_points,
  score = s.score,
  previous_level = case when s.level != t.level then t.level else t.previous_level end,
  level_changed_at = case when s.level != t.level then @now else t.level_changed_at end,
  level = s.level,
  uncapped_level = s.uncapped_level,
  level_cap_reason = s.level_cap_reason,
  scored_at = @now;

-- name: score_record_level_changes
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- One row per level change stamped by this run (change_id makes a re-run add nothing).
merge lead_level_changes as t
using (
  select
    concat(tenant_id, ':', lead_id, ':', level, ':', cast(unix_millis(level_changed_at) as string)) as change_id,
    tenant_id,
    lead_id,
    previous_level as from_level,
    level as to_level,
    score,
    evidence_level,
    level_changed_at as changed_at
  from lead_profiles
  where level_changed_at = @now
) as s
-- A change_id holds its change's time to the millisecond, so only rows changed at this
-- run's now can match: the bound lets the target be read from its latest partition alone.
on
  t.change_id = s.change_id
  and t.changed_at >= timestamp_sub(@now, interval 1 millisecond)
  and t.changed_at <= timestamp_add(@now, interval 1 millisecond)
when not matched then insert (change_id, tenant_id, lead_id, from_level, to_level, score, evidence_level, changed_at)
values (s.change_id, s.tenant_id, s.lead_id, s.from_level, s.to_level, s.score, s.evidence_level, s.changed_at);

-- name: score_record_history
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- One row per (tenant, lead, day) in lead_score_history: each profile this run rescored or
-- decayed (scored_at = @now) sets its row for the day, so a day keeps its last score and a
-- re-run writes the same row.
merge lead_score_history as t
using (
  select
    tenant_id,
    lead_id,
    date(@now) as day,
    score,
    level,
    recency_points,
    frequency_points,
    engagement_points,
    high_intent_points,
    conversion_points,
    evidence_level,
    scored_at
  from lead_profiles
  where scored_at = @now
) as s
on t.day = date(@now) and t.tenant_id = s.tenant_id and t.lead_id = s.lead_id and t.day = s.day
when matched then update set
  score = s.score, level = s.level, recency_points = s.recency_points, frequency_points = s.frequency_points,
  engagement_points = s.engagement_points, high_intent_points = s.high_intent_points,
  conversion_points = s.conversion_points, evidence_level = s.evidence_level, scored_at = s.scored_at
when not matched then insert (
  tenant_id, lead_id, day, score, level, recency_points, frequency_points, engagement_points, high_intent_points,
  conversion_points, evidence_level, scored_at
) values (
  s.tenant_id, s.lead_id, s.day, s.score, s.level, s.recency_points, s.frequency_points, s.engagement_points,
  s.high_intent_points, s.conversion_points, s.evidence_level, s.scored_at
);

-- name: profiles_to_sync
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- Profiles scored since the last sync, as personalization may show them.
select
  tenant_id,
  lead_id,
  level as intent_level,
  cast(round(score) as int64) as intent_score,
  pricing_views > 0 as viewed_pricing,
  case_study_views > 0 as viewed_case_studies,
  last_activity_at
from lead_profiles
where scored_at > @since and scored_at <= @until;

-- name: level_changes_to_alert
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- Upward level changes since the last alert run, with what made the lead hot and the
-- evidence behind it. Only corroborated leads are announced (README, "Trust"): a change
-- recorded as id-only, or of a lead that is id-only now, is never sent (alerts/service.py
-- checks again). A change recorded before evidence was kept reads the lead's current one.
select
  c.change_id,
  c.tenant_id,
  c.lead_id,
  c.from_level,
  c.to_level,
  c.score,
  c.changed_at,
  p.recency_points,
  p.frequency_points,
  p.engagement_points,
  p.high_intent_points,
  p.conversion_points,
  p.sessions,
  p.pricing_views,
  p.last_activity_at,
  coalesce(c.evidence_level, p.evidence_level) as evidence_level,
  p.evidence_level as current_evidence_level,
  p.verified_sessions,
  p.corroborated_sessions,
  p.id_only_sessions,
  p.uncapped_level
from lead_level_changes as c
inner join lead_profiles as p on p.tenant_id = c.tenant_id and p.lead_id = c.lead_id
where
  c.changed_at > @since and c.changed_at <= @until
  and coalesce(c.evidence_level, p.evidence_level) in ('verified', 'corroborated')
  and p.evidence_level in ('verified', 'corroborated')
order by c.changed_at;
