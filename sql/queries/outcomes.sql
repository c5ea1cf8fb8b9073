-- Queries of the outcomes API and admin pages. Every one is filtered by @tenant_id.

-- name: lead_intent
-- A lead's intent score and level from the warehouse, for the lead page.
select score, level, recency_points, frequency_points, engagement_points, high_intent_points, conversion_points,
  last_activity_at
from lead_profiles
where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: win_rates_by_source
-- Sources over the weeks since @from_week: the rows the dashboard shows and the CSV exports.
select
  source_key as dimension,
  sum(leads_entered) as leads_entered,
  sum(appointments) as appointments,
  sum(won) as won,
  sum(lost) as lost,
  case when sum(won) + sum(lost) > 0 then sum(won) / (sum(won) + sum(lost)) end as win_rate
from agg_source_win_rates
where tenant_id = @tenant_id and week_start >= @from_week and week_start <= @to_week
  and (@intent_type = '' or intent_type = @intent_type)
group by source_key
having sum(won) + sum(lost) >= @min_denominator
order by win_rate desc, dimension;

-- name: win_rates_by_geo
select
  geo_key as dimension,
  sum(leads_entered) as leads_entered,
  sum(appointments) as appointments,
  sum(won) as won,
  sum(lost) as lost,
  case when sum(won) + sum(lost) > 0 then sum(won) / (sum(won) + sum(lost)) end as win_rate
from agg_local_win_rates
where tenant_id = @tenant_id and week_start >= @from_week and week_start <= @to_week
  and (@intent_type = '' or intent_type = @intent_type)
group by geo_key
having sum(won) + sum(lost) >= @min_denominator
order by win_rate desc, dimension;

-- name: win_rates_by_intent_level
-- Does the score predict wins? Win rate by the intent level a lead had when first contacted.
select
  intent_level_at_contact as dimension,
  leads_decided,
  won,
  lost,
  win_rate
from win_rate_by_intent_level
where tenant_id = @tenant_id
order by dimension;

-- name: stage_counts
-- Outcomes recorded by stage, for the dashboard.
select outcome_stage, count(distinct lead_id) as leads, count(*) as outcomes
from lead_outcomes
where tenant_id = @tenant_id
group by outcome_stage
order by outcome_stage;
