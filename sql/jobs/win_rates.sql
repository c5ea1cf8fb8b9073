-- The win_rates job: one ISO week (@week_start, a Monday, 00:00 UTC) of the measures in
-- win_rate_measures (sql/schema/096_win_rate_measures.sql, computed once for both
-- dimensions) into the aggregates by source and by geo. MERGE, and rows of that week no
-- longer produced are deleted: a re-run gives the same.

-- name: win_rates_by_source_merge
-- params: week_start TIMESTAMP, now TIMESTAMP
merge agg_source_win_rates as t
using (
  select tenant_id, week_start, dimension_key as source_key, intent_type, leads_entered, appointments, won, lost, win_rate
  from win_rate_measures
  where dimension = 'source' and week_start = date(@week_start)
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
  select tenant_id, week_start, dimension_key as geo_key, intent_type, leads_entered, appointments, won, lost, win_rate
  from win_rate_measures
  where dimension = 'geo' and week_start = date(@week_start)
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
