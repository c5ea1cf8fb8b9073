-- identity_conflicts: one row per (tenant, visitor) whose browser showed the tracking
-- ids of more than one lead: a forwarded email or a shared computer. Each lead keeps
-- its own events; this view records the conflict for review.
create or replace view identity_conflicts as

with per_lead as (
  select
    e.tenant_id,
    e.visitor_id,
    m.lead_id,
    min(e.occurred_at) as first_seen_at
  from events as e
  inner join identity_map as m
    on m.tenant_id = e.tenant_id and m.tracking_id = e.tracking_id
  group by e.tenant_id, e.visitor_id, m.lead_id
),

final as (
  select
    tenant_id,
    visitor_id,
    count(*) as leads_seen,
    array_agg(lead_id order by first_seen_at) as lead_ids,
    min(first_seen_at) as first_seen_at,
    max(first_seen_at) as conflict_at
  from per_lead
  group by tenant_id, visitor_id
  having count(*) > 1
)

select * from final;
