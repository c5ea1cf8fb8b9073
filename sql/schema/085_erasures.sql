-- erasures: one row per completed erasure request (GDPR): whose (the email's sha256,
-- never the email), when asked, when done, and how many rows each table lost.
create table if not exists erasures (
  request_id string not null,
  tenant_id string not null,
  email_sha256 string not null,
  lead_id string,
  requested_at timestamp not null,
  completed_at timestamp not null,
  rows_deleted json
)
cluster by tenant_id;

-- What the request found: erased (the person was imported), never_imported (only stray
-- mentions, if any, were scrubbed) or already_erased (a repeat request).
alter table erasures add column if not exists outcome string;
