-- Queries of the sequencer webhooks (oie/webhooks/sequencers). Every one is filtered by @tenant_id.

-- name: sequencer_leads_by_email
-- params: tenant_id STRING, email_hashes ARRAY<STRING>
-- One row per recipient hash of a Smartlead or Instantly post that belongs to one of the
-- tenant's leads: the lead and the campaign it was imported into most recently (the CSV a
-- sequencer sends from is that campaign's links.csv). The tenant's clustered identity_map
-- rows only; a post carries one event, so @email_hashes holds a handful of values.
with candidates as (
  select
    email_sha256,
    lead_id,
    campaign_id,
    created_at
  from identity_map
  where tenant_id = @tenant_id and email_sha256 in unnest(@email_hashes)
),

final as (
  select
    email_sha256,
    lead_id,
    campaign_id
  from candidates
  qualify row_number() over (partition by email_sha256 order by created_at desc, campaign_id desc) = 1
)

select * from final;
