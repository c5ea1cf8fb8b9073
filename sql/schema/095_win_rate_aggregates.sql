-- agg_source_win_rates / agg_local_win_rates: one row per (tenant, ISO week, source or
-- geo, intent type): leads entered (first outcome that week), appointments, won, lost and
-- win_rate = won / (won + lost), NULL when no lead was decided. Written by win_rates.
create table if not exists agg_source_win_rates (
  tenant_id string not null,
  week_start date not null,
  source_key string not null,
  intent_type string not null,
  leads_entered int64 not null,
  appointments int64 not null,
  won int64 not null,
  lost int64 not null,
  win_rate float64,
  computed_at timestamp not null
)
cluster by tenant_id, week_start;

create table if not exists agg_local_win_rates (
  tenant_id string not null,
  week_start date not null,
  geo_key string not null,
  intent_type string not null,
  leads_entered int64 not null,
  appointments int64 not null,
  won int64 not null,
  lost int64 not null,
  win_rate float64,
  computed_at timestamp not null
)
cluster by tenant_id, week_start;
