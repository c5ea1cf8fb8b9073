-- visitor_leads: one row per (tenant, visitor, lead) link: the visitor showed that
-- lead's tracking id, or typed an email whose hash belongs to that lead. A visitor
-- linked to several leads is an identity conflict; nothing is merged.
create table if not exists visitor_leads (
  tenant_id string not null,
  visitor_id string not null,
  lead_id string not null,
  source string not null,
  first_seen_at timestamp not null
)
cluster by tenant_id, visitor_id;
