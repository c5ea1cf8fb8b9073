-- scoring_config: one row per tenant with the weights and thresholds of the intent
-- score; tenant_id '*' is the default model every other tenant falls back to.
create table if not exists scoring_config (
  tenant_id string not null,
  recency_24h float64 not null,
  recency_3d float64 not null,
  recency_7d float64 not null,
  recency_14d float64 not null,
  recency_30d float64 not null,
  recency_older float64 not null,
  per_session float64 not null,
  frequency_cap float64 not null,
  per_pageview float64 not null,
  per_active_minute float64 not null,
  per_scroll_milestone float64 not null,
  engagement_cap float64 not null,
  per_pricing_view float64 not null,
  per_case_study_view float64 not null,
  per_product_view float64 not null,
  high_intent_cap float64 not null,
  per_form_submit float64 not null,
  per_video_complete float64 not null,
  conversion_cap float64 not null,
  score_cap float64 not null,
  burning_min float64 not null,
  hot_min float64 not null,
  warm_min float64 not null,
  updated_at timestamp not null
);

-- The highest level a lead may show while its only evidence is an id (see "Trust" in the
-- README); null reads as 'warm'. Additive, for existing tables.
alter table scoring_config add column if not exists id_only_max_level string;

merge scoring_config as t
using (
  select
    '*' as tenant_id,
    30.0 as recency_24h, 25.0 as recency_3d, 20.0 as recency_7d, 15.0 as recency_14d, 10.0 as recency_30d,
    5.0 as recency_older,
    4.0 as per_session, 20.0 as frequency_cap,
    1.5 as per_pageview, 1.0 as per_active_minute, 1.0 as per_scroll_milestone, 25.0 as engagement_cap,
    8.0 as per_pricing_view, 5.0 as per_case_study_view, 4.0 as per_product_view, 25.0 as high_intent_cap,
    15.0 as per_form_submit, 5.0 as per_video_complete, 20.0 as conversion_cap,
    100.0 as score_cap, 80.0 as burning_min, 60.0 as hot_min, 40.0 as warm_min,
    'warm' as id_only_max_level
) as s
on t.tenant_id = s.tenant_id
when matched and t.id_only_max_level is null then update set id_only_max_level = s.id_only_max_level
when not matched then insert (
  tenant_id, recency_24h, recency_3d, recency_7d, recency_14d, recency_30d, recency_older, per_session,
  frequency_cap, per_pageview, per_active_minute, per_scroll_milestone, engagement_cap, per_pricing_view,
  per_case_study_view, per_product_view, high_intent_cap, per_form_submit, per_video_complete, conversion_cap,
  score_cap, burning_min, hot_min, warm_min, id_only_max_level, updated_at
) values (
  s.tenant_id, s.recency_24h, s.recency_3d, s.recency_7d, s.recency_14d, s.recency_30d, s.recency_older,
  s.per_session, s.frequency_cap, s.per_pageview, s.per_active_minute, s.per_scroll_milestone, s.engagement_cap,
  s.per_pricing_view, s.per_case_study_view, s.per_product_view, s.high_intent_cap, s.per_form_submit,
  s.per_video_complete, s.conversion_cap, s.score_cap, s.burning_min, s.hot_min, s.warm_min, s.id_only_max_level,
  current_timestamp()
);
