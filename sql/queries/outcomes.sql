-- Queries of the outcomes API and admin pages. Every one is filtered by @tenant_id.

-- name: lead_intent
-- params: tenant_id STRING, lead_id STRING
-- A lead's intent score and level from the warehouse, for the lead page.
select score, level, recency_points, frequency_points, engagement_points, high_intent_points, conversion_points,
  last_activity_at
from lead_profiles
where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: win_rates_by_dimension
-- params: by STRING, tenant_id STRING, from_week DATE, to_week DATE, from_at TIMESTAMP, partial_from TIMESTAMP, until TIMESTAMP, intent_type STRING, min_denominator INT64
-- One row per source (@by = 'source') or geo (@by = 'geo'): the complete weeks
-- @from_week..@to_week from the weekly aggregates, plus the current week so far
-- (@partial_from..@until) counted live from lead_outcomes exactly as the win_rates job will
-- count it; `partial` says a row includes that week. The dashboard table and the CSV export.
with complete_weeks as (
  select 'source' as by_kind, source_key as dimension, intent_type, leads_entered, appointments, won, lost
  from agg_source_win_rates
  where tenant_id = @tenant_id and week_start >= @from_week and week_start <= @to_week
  union all
  select 'geo' as by_kind, geo_key as dimension, intent_type, leads_entered, appointments, won, lost
  from agg_local_win_rates
  where tenant_id = @tenant_id and week_start >= @from_week and week_start <= @to_week
),

first_outcomes as (
  select lead_id, min(occurred_at) as first_at
  from lead_outcomes
  where tenant_id = @tenant_id
  group by lead_id
),

this_week as (
  select
    case when @by = 'geo' then o.geo_key else o.source_key end as dimension,
    o.intent_type,
    count(distinct case when f.first_at = o.occurred_at then o.lead_id end) as leads_entered,
    count(distinct case when o.outcome_stage = 'mid_funnel' then o.lead_id end) as appointments,
    count(distinct case when o.outcome_stage = 'won' then o.lead_id end) as won,
    count(distinct case when o.outcome_stage = 'lost' then o.lead_id end) as lost
  from lead_outcomes as o
  inner join first_outcomes as f on f.lead_id = o.lead_id
  where o.tenant_id = @tenant_id and o.occurred_at >= @partial_from and o.occurred_at <= @until
  group by dimension, o.intent_type
),

weeks as (
  select dimension, intent_type, leads_entered, appointments, won, lost, false as is_partial
  from complete_weeks
  where by_kind = @by
  union all
  select dimension, intent_type, leads_entered, appointments, won, lost, true as is_partial
  from this_week
),

final as (
  select
    dimension,
    sum(leads_entered) as leads_entered,
    sum(appointments) as appointments,
    sum(won) as won,
    sum(lost) as lost,
    case when sum(won) + sum(lost) > 0 then sum(won) / (sum(won) + sum(lost)) end as win_rate,
    logical_or(is_partial) as partial
  from weeks
  where @intent_type = '' or intent_type = @intent_type
  group by dimension
  -- Qualified: in HAVING a bare `won` is the select alias sum(won), an aggregate of an aggregate.
  having sum(weeks.won) + sum(weeks.lost) >= @min_denominator
)

select * from final
order by win_rate desc, dimension;

-- name: win_rates_by_intent_level
-- params: by STRING, tenant_id STRING, from_week DATE, to_week DATE, from_at TIMESTAMP, partial_from TIMESTAMP, until TIMESTAMP, intent_type STRING, min_denominator INT64
-- Does the score predict wins? One row per intent level a lead had at its first recorded
-- outcome, over the same range as the other tabs (@from_at..@until, the current week included),
-- each lead once per measure.
with first_contact as (
  select lead_id, min(occurred_at) as first_at, min_by(intent_level, occurred_at) as dimension
  from lead_outcomes
  where tenant_id = @tenant_id
  group by lead_id
),

in_range as (
  select o.lead_id, o.outcome_stage, o.occurred_at, c.first_at, c.dimension
  from lead_outcomes as o
  inner join first_contact as c on c.lead_id = o.lead_id
  where o.tenant_id = @tenant_id and o.occurred_at >= @from_at and o.occurred_at <= @until
    and (@intent_type = '' or o.intent_type = @intent_type)
),

measured as (
  select
    dimension,
    count(distinct case when first_at = occurred_at then lead_id end) as leads_entered,
    count(distinct case when outcome_stage = 'mid_funnel' then lead_id end) as appointments,
    count(distinct case when outcome_stage = 'won' then lead_id end) as won,
    count(distinct case when outcome_stage = 'lost' then lead_id end) as lost,
    logical_or(occurred_at >= @partial_from) as partial
  from in_range
  group by dimension
),

final as (
  select
    dimension,
    leads_entered,
    appointments,
    won,
    lost,
    case when won + lost > 0 then won / (won + lost) end as win_rate,
    partial
  from measured
  where won + lost >= @min_denominator
)

select * from final
order by dimension;
