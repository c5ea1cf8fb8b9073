-- win_rate_measures: one row per (tenant, ISO week, dimension, key, intent type): the
-- measures both win-rate aggregates keep, computed once for the two dimensions ('source'
-- keyed by source_key, 'geo' by geo_key). A lead counts once per measure: entered in the
-- week of its first outcome, an appointment if it reached mid_funnel that week, won / lost
-- if it closed that week. The win_rates job MERGEs one week of it into each aggregate.
create or replace view win_rate_measures as

with outcomes as (
  select
    tenant_id,
    lead_id,
    source_key,
    geo_key,
    intent_type,
    outcome_stage,
    occurred_at,
    -- the Monday of the ISO week (2001-01-01 was a Monday)
    date(date_sub(date(occurred_at), interval mod(date_diff(date(occurred_at), date '2001-01-01', day), 7) day))
      as week_start,
    min(occurred_at) over (partition by tenant_id, lead_id) as first_at
  from lead_outcomes
),

by_dimension as (
  select *, 'source' as dimension, source_key as dimension_key from outcomes
  union all
  select *, 'geo' as dimension, geo_key as dimension_key from outcomes
),

measured as (
  select
    tenant_id,
    week_start,
    dimension,
    dimension_key,
    intent_type,
    count(distinct case when first_at = occurred_at then lead_id end) as leads_entered,
    count(distinct case when outcome_stage = 'mid_funnel' then lead_id end) as appointments,
    count(distinct case when outcome_stage = 'won' then lead_id end) as won,
    count(distinct case when outcome_stage = 'lost' then lead_id end) as lost
  from by_dimension
  group by tenant_id, week_start, dimension, dimension_key, intent_type
),

final as (
  select
    *,
    case when won + lost > 0 then won / (won + lost) end as win_rate
  from measured
)

select * from final;
