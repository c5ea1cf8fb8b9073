-- win_rate_by_intent_level: one row per (tenant, intent level the lead had when first
-- contacted): decided leads, won, lost and the win rate. Does the intent score predict wins?
create or replace view win_rate_by_intent_level as

with first_contact as (
  select tenant_id, lead_id, min_by(intent_level, occurred_at) as intent_level_at_contact
  from lead_outcomes
  where outcome_stage = 'top_of_funnel'
  group by tenant_id, lead_id
),

decided as (
  select
    tenant_id,
    lead_id,
    logical_or(outcome_stage = 'won') as is_won,
    logical_or(outcome_stage = 'lost') as is_lost
  from lead_outcomes
  group by tenant_id, lead_id
),

final as (
  select
    c.tenant_id,
    c.intent_level_at_contact,
    countif(d.is_won or d.is_lost) as leads_decided,
    countif(d.is_won) as won,
    countif(d.is_lost and not d.is_won) as lost,
    case
      when countif(d.is_won or d.is_lost) > 0
        then countif(d.is_won) / countif(d.is_won or d.is_lost)
    end as win_rate
  from first_contact as c
  inner join decided as d on d.tenant_id = c.tenant_id and d.lead_id = c.lead_id
  group by c.tenant_id, c.intent_level_at_contact
)

select * from final;
