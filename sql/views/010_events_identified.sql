-- events_identified: one row per event with the lead its own tracking id stands for.
-- An event is tied to a lead only by the `i` it carried; a browser that later shows
-- another `i` is never merged into one lead (see identity_conflicts).
create or replace view events_identified as

with links as (
  select tenant_id, tracking_id, lead_id, campaign_id
  from identity_map
),

final as (
  select
    e.*,
    l.lead_id,
    l.campaign_id,
    e.identity_status = 'verified' as is_identity_verified
  from events as e
  left join links as l
    on l.tenant_id = e.tenant_id and l.tracking_id = e.tracking_id
)

select * from final;
