-- inbound_messages: one row per email SendGrid Inbound Parse posted (inbound_id = the
-- tenant and the reply's Message-ID), matched to the outbound message it answers by the
-- Reply-To token or In-Reply-To / References. Auto-replies are kept and flagged; they are
-- not replies. The sender and text are kept: a sales rep has to read and answer them;
-- from_email_sha256 (the sender's bare address) lets an erasure find them exactly.
create table if not exists inbound_messages (
  inbound_id string not null,
  tenant_id string not null,
  received_at timestamp not null,
  from_address string,
  from_email_sha256 string,
  to_address string,
  envelope json,
  subject string,
  text_body string,
  html_body string,
  headers string,
  rfc_message_id string,
  in_reply_to string,
  matched_by string,
  oie_message_id string,
  contact_campaign_id string,
  node_id string,
  is_auto_reply bool not null,
  auto_reply_reasons array<string>,
  spam_score string
)
partition by date(received_at)
cluster by tenant_id, contact_campaign_id
options (partition_expiration_days = 730);

-- Additive, for tables created before the column existed.
alter table inbound_messages add column if not exists from_email_sha256 string;
