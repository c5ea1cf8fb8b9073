-- The retention job and erasure requests. Retention deletes what is older than the
-- tenant's retention (BigQuery's 2-year partition expiry is the outer bound); an erasure
-- removes one person: every row reachable from their lead, links, visitors or email hash.

-- name: retention_events
delete from events where tenant_id = @tenant_id and received_at < @cutoff;

-- name: retention_sessions
delete from sessions where tenant_id = @tenant_id and session_start < @cutoff;

-- name: retention_email_clicks
delete from email_clicks where tenant_id = @tenant_id and clicked_at < @cutoff;

-- name: retention_level_changes
delete from lead_level_changes where tenant_id = @tenant_id and changed_at < @cutoff;

-- name: erase_events
delete from events
where
  tenant_id = @tenant_id
  and (
    email_sha256 = @email_sha256
    or tracking_id in (select tracking_id from identity_map where tenant_id = @tenant_id and lead_id = @lead_id)
    or visitor_id in (select visitor_id from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id)
  );

-- name: erase_sessions
delete from sessions
where
  tenant_id = @tenant_id
  and (
    lead_id = @lead_id
    or visitor_id in (select visitor_id from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id)
  );

-- name: erase_email_clicks
delete from email_clicks where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_lead_profiles
delete from lead_profiles where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_level_changes
delete from lead_level_changes where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_visitor_leads
delete from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_identity_map
delete from identity_map where tenant_id = @tenant_id and (lead_id = @lead_id or email_sha256 = @email_sha256);

-- name: retention_message_events
delete from message_events where tenant_id = @tenant_id and occurred_at < @cutoff;

-- name: retention_inbound_messages
delete from inbound_messages where tenant_id = @tenant_id and received_at < @cutoff;

-- name: erase_message_events
delete from message_events where tenant_id = @tenant_id and email_sha256 = @email_sha256;

-- name: erase_inbound_messages
delete from inbound_messages where tenant_id = @tenant_id and lower(trim(from_address)) = @email;
