-- identity_map: one row per tracking link (tenant_id, tracking_id).
-- Which lead and campaign a tracking id stands for, and the lead's email hash, so that
-- sessions can be stitched to leads by `i` or by an email typed into a form.
create table if not exists identity_map (
  tenant_id string not null,
  tracking_id string not null,
  lead_id string not null,
  campaign_id string not null,
  email_sha256 string,
  created_at timestamp not null
)
cluster by tenant_id, tracking_id;
