-- intent_distribution: one row per (tenant, intent level), all four levels present even
-- when empty, with the tenant's scored leads at that level and their share of all its
-- scored leads (lead_profiles). level_order sorts cold, warm, hot, burning in charts.
-- capped_lead_count: leads shown at this level whose score alone would place them higher,
-- held there because their only evidence is an id (README, "Trust").
create or replace view intent_distribution as

with levels as (
  select 'cold' as intent_level, 1 as level_order
  union all select 'warm', 2
  union all select 'hot', 3
  union all select 'burning', 4
),

tenants as (
  select distinct tenant_id
  from lead_profiles
),

per_level as (
  select
    tenant_id,
    level,
    count(*) as lead_count,
    countif(level_cap_reason is not null) as capped_lead_count,
    avg(score) as average_score
  from lead_profiles
  group by tenant_id, level
),

counted as (
  select
    t.tenant_id,
    l.intent_level,
    l.level_order,
    coalesce(p.lead_count, 0) as lead_count,
    coalesce(p.capped_lead_count, 0) as capped_lead_count,
    p.average_score as average_intent_score
  from tenants as t
  cross join levels as l
  left join per_level as p on p.tenant_id = t.tenant_id and p.level = l.intent_level
),

final as (
  select
    tenant_id,
    intent_level,
    level_order,
    lead_count,
    safe_divide(lead_count, sum(lead_count) over (partition by tenant_id)) as share_of_leads,
    capped_lead_count,
    average_intent_score
  from counted
)

select * from final;
