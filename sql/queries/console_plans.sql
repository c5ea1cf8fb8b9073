-- Reads of the language-model planner's records for the console and the hot-lead alerts:
-- each bounded by the tenant, the lead(s) and the plan_generations partitions since @since.

-- name: console_lead_plans
-- params: tenant_id STRING, lead_id STRING, since TIMESTAMP, limit_rows INT64
-- One row per campaign of the lead: the generation that made its plan (a reuse only when no
-- generation of that campaign is left in the window), with its model, prompt version and tokens.
with generations as (
  select
    campaign_id,
    generation_id,
    model,
    prompt_version,
    outcome,
    fallback_reason,
    model_calls,
    prompt_tokens,
    output_tokens,
    cost_usd,
    plan_version,
    lead_analysis,
    planned_at
  from plan_generations
  where tenant_id = @tenant_id and lead_id = @lead_id and planned_at >= @since
),

final as (
  select *
  from generations
  qualify row_number() over (
    partition by campaign_id
    order by if(outcome = 'reused', 1, 0), planned_at desc, generation_id desc
  ) = 1
)

select * from final
order by planned_at desc, campaign_id
limit @limit_rows;

-- name: alert_lead_analyses
-- params: tenant_id STRING, lead_ids ARRAY<STRING>, since TIMESTAMP
-- One row per lead with a lead analysis since @since: the latest one written.
with analyses as (
  select
    lead_id,
    lead_analysis,
    planned_at,
    generation_id
  from plan_generations
  where
    tenant_id = @tenant_id
    and lead_id in unnest(@lead_ids)
    and planned_at >= @since
    and lead_analysis is not null
    and lead_analysis != ''
),

final as (
  select
    lead_id,
    lead_analysis
  from analyses
  qualify row_number() over (partition by lead_id order by planned_at desc, generation_id desc) = 1
)

select * from final
order by lead_id;
