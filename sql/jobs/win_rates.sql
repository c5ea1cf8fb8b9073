-- The win_rates job: one ISO week (@week_start, a Monday, 00:00 UTC) of lead_outcomes into
-- the aggregates. A lead counts once per measure: entered in the week of its first outcome,
-- an appointment if it reached mid_funnel that week, won / lost if it closed that week.
-- MERGE, and rows of that week no longer produced are deleted: a re-run gives the same.

-- name: win_rates_by_source_merge
-- params: week_start TIMESTAMP, now TIMESTAMP
merge agg_source_win_rates as t
using (
  with week as (
    select *
    from lead_outcomes
    where occurred_at >= @week_start and occurred_at < timestamp_add(@week_start, interval 7 day)
  ),

  first_outcomes as (
    select tenant_id, lead_id, min(occurred_at) as first_at
    from lead_outcomes
    where tenant_id in (select tenant_id from week)
    group by tenant_id, lead_id
  ),

  measured as (
    select
      w.tenant_id,
      w.source_key,
      w.intent_type,
      count(distinct case when f.first_at = w.occurred_at then w.lead_id end) as leads_entered,
      count(distinct case when w.outcome_stage = 'mid_funnel' then w.lead_id end) as appointments,
      count(distinct case when w.outcome_stage = 'won' then w.lead_id end) as won,
      count(distinct case when w.outcome_stage = 'lost' then w.lead_id end) as lost
    from week as w
    inner join first_outcomes as f on f.tenant_id = w.tenant_id and f.lead_id = w.lead_id
    group by w.tenant_id, w.source_key, w.intent_type
  ),

  final as (
    select
      tenant_id,
      date(@week_start) as week_start,
      source_key,
      intent_type,
      leads_entered,
      appointments,
      won,
      lost,
      case when won + lost > 0 then won / (won + lost) end as win_rate
    from measured
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.week_start = s.week_start and t.source_key = s.source_key
  and t.intent_type = s.intent_type
when matched then update set
  leads_entered = s.leads_entered, appointments = s.appointments, won = s.won, lost = s.lost,
  win_rate = s.win_rate, computed_at = @now
when not matched by target then insert (
  tenant_id, week_start, source_key, intent_type, leads_entered, appointments, won, lost, win_rate, computed_at
) values (
  s.tenant_id, s.week_start, s.source_key, s.intent_type, s.leads_entered, s.appointments, s.won, s.lost,
  s.win_rate, @now
)
when not matched by source and t.week_start = date(@week_start) then delete;

-- name: win_rates_by_geo_merge
-- params: week_start TIMESTAMP, now TIMESTAMP
merge agg_local_win_rates as t
using (
  with week as (
    select *
    from lead_outcomes
    where occurred_at >= @week_start and occurred_at < timestamp_add(@week_start, interval 7 day)
  ),

  first_outcomes as (
    select tenant_id, lead_id, min(occurred_at) as first_at
    from lead_outcomes
    where tenant_id in (select tenant_id from week)
    group by tenant_id, lead_id
  ),

  measured as (
    select
      w.tenant_id,
      w.geo_key,
      w.intent_type,
      count(distinct case when f.first_at = w.occurred_at then w.lead_id end) as leads_entered,
      count(distinct case when w.outcome_stage = 'mid_funnel' then w.lead_id end) as appointments,
      count(distinct case when w.outcome_stage = 'won' then w.lead_id end) as won,
      count(distinct case when w.outcome_stage = 'lost' then w.lead_id end) as lost
    from week as w
    inner join first_outcomes as f on f.tenant_id = w.tenant_id and f.lead_id = w.lead_id
    group by w.tenant_id, w.geo_key, w.intent_type
  ),

  final as (
    select
      tenant_id,
      date(@week_start) as week_start,
      geo_key,
      intent_type,
      leads_entered,
      appointments,
      won,
      lost,
      case when won + lost > 0 then won / (won + lost) end as win_rate
    from measured
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.week_start = s.week_start and t.geo_key = s.geo_key
  and t.intent_type = s.intent_type
when matched then update set
  leads_entered = s.leads_entered, appointments = s.appointments, won = s.won, lost = s.lost,
  win_rate = s.win_rate, computed_at = @now
when not matched by target then insert (
  tenant_id, week_start, geo_key, intent_type, leads_entered, appointments, won, lost, win_rate, computed_at
) values (
  s.tenant_id, s.week_start, s.geo_key, s.intent_type, s.leads_entered, s.appointments, s.won, s.lost,
  s.win_rate, @now
)
when not matched by source and t.week_start = date(@week_start) then delete;
