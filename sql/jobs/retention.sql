-- The retention job and erasure requests. Retention deletes what is older than the
-- tenant's retention (BigQuery's 2-year partition expiry is the outer bound) and empties
-- raw webhook bodies after @raw_cutoff; an erasure removes one person: every row reachable
-- from their lead, links, visitors, contact campaigns or email, and scrubs them out of the
-- raw webhook bodies that also hold other people's events (oie/retention/scrub.py).

-- name: retention_events
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from events where tenant_id = @tenant_id and received_at < @cutoff;

-- name: retention_sessions
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from sessions where tenant_id = @tenant_id and session_start < @cutoff;

-- name: retention_email_clicks
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from email_clicks where tenant_id = @tenant_id and clicked_at < @cutoff;

-- name: retention_level_changes
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from lead_level_changes where tenant_id = @tenant_id and changed_at < @cutoff;

-- name: erase_events
-- params: tenant_id STRING, lead_id STRING, email_sha256 STRING
delete from events
where
  tenant_id = @tenant_id
  and (
    email_sha256 = @email_sha256
    or tracking_id in (select tracking_id from identity_map where tenant_id = @tenant_id and lead_id = @lead_id)
    or visitor_id in (select visitor_id from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id)
  );

-- name: erase_sessions
-- params: tenant_id STRING, lead_id STRING
delete from sessions
where
  tenant_id = @tenant_id
  and (
    lead_id = @lead_id
    or visitor_id in (select visitor_id from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id)
  );

-- name: erase_email_clicks
-- params: tenant_id STRING, lead_id STRING
delete from email_clicks where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_lead_profiles
-- params: tenant_id STRING, lead_id STRING
delete from lead_profiles where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_level_changes
-- params: tenant_id STRING, lead_id STRING
delete from lead_level_changes where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_visitor_leads
-- params: tenant_id STRING, lead_id STRING
delete from visitor_leads where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_identity_map
-- params: tenant_id STRING, lead_id STRING, email_sha256 STRING
delete from identity_map where tenant_id = @tenant_id and (lead_id = @lead_id or email_sha256 = @email_sha256);

-- name: retention_message_events
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from message_events where tenant_id = @tenant_id and occurred_at < @cutoff;

-- name: retention_inbound_messages
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from inbound_messages where tenant_id = @tenant_id and received_at < @cutoff;

-- name: erase_message_events
-- params: tenant_id STRING, email_sha256 STRING
delete from message_events where tenant_id = @tenant_id and email_sha256 = @email_sha256;

-- name: erase_inbound_messages
-- params: tenant_id STRING, lead_id STRING, email_sha256 STRING, email_pattern STRING
-- Mail from the person ("Ada <ada@x.com>": matched as a whole address, never as a part of
-- another) and every reply that answers a message to them, whoever wrote it. Runs before
-- erase_campaign_transitions, which it reads.
delete from inbound_messages
where
  tenant_id = @tenant_id
  and (
    from_email_sha256 = @email_sha256
    or regexp_contains(lower(coalesce(from_address, '')), @email_pattern)
    or regexp_contains(lower(coalesce(to_json_string(envelope), '')), @email_pattern)
    or strpos(coalesce(contact_campaign_id, ''), @lead_id) > 0
    or contact_campaign_id in (
      select contact_campaign_id from campaign_transitions where tenant_id = @tenant_id and lead_id = @lead_id
    )
  );

-- name: erase_campaign_transitions
-- params: tenant_id STRING, lead_id STRING
delete from campaign_transitions where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_lead_outcomes
-- params: tenant_id STRING, lead_id STRING
delete from lead_outcomes where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: erase_webhook_delivery_candidates
-- params: tenant_id STRING, lead_id STRING, email STRING
-- Raw deliveries that mention the person: their address, or their lead inside a contact campaign id.
select delivery_id, raw_body
from webhook_deliveries
where
  tenant_id = @tenant_id
  and raw_body is not null
  and (strpos(lower(raw_body), @email) > 0 or strpos(raw_body, @lead_id) > 0);

-- name: erase_webhook_delivery_body
-- params: tenant_id STRING, raw_body STRING, delivery_id STRING
update webhook_deliveries
set raw_body = @raw_body
where tenant_id = @tenant_id and delivery_id = @delivery_id;

-- name: erase_inbound_mention_candidates
-- params: tenant_id STRING, email STRING, full_name STRING
-- Other people's inbound mail that names the person (a colleague's reply, a Cc): kept, scrubbed.
select inbound_id, from_address, to_address, subject, text_body, html_body, headers
from inbound_messages
where
  tenant_id = @tenant_id
  and (
    strpos(
      lower(
        concat(
          coalesce(from_address, ''), ' ', coalesce(to_address, ''), ' ', coalesce(subject, ''), ' ',
          coalesce(text_body, ''), ' ', coalesce(html_body, ''), ' ', coalesce(headers, '')
        )
      ),
      @email
    ) > 0
    or (
      @full_name != ''
      and strpos(
        lower(concat(coalesce(subject, ''), ' ', coalesce(text_body, ''), ' ', coalesce(html_body, ''), ' ', coalesce(headers, ''))),
        @full_name
      ) > 0
    )
  );

-- name: erase_inbound_mention
-- params: tenant_id STRING, inbound_id STRING, from_address STRING, to_address STRING, subject STRING, text_body STRING, html_body STRING, headers STRING
update inbound_messages
set
  from_address = @from_address,
  to_address = @to_address,
  subject = @subject,
  text_body = @text_body,
  html_body = @html_body,
  headers = @headers
where tenant_id = @tenant_id and inbound_id = @inbound_id;

-- name: retention_webhook_deliveries
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from webhook_deliveries where tenant_id = @tenant_id and received_at < @cutoff;

-- name: retention_webhook_raw_bodies
-- params: tenant_id STRING, raw_cutoff TIMESTAMP
-- The raw body is for audit and debugging of recent deliveries; the counts stay with the row.
update webhook_deliveries
set raw_body = null
where tenant_id = @tenant_id and received_at < @raw_cutoff and raw_body is not null;

-- name: retention_campaign_transitions
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from campaign_transitions where tenant_id = @tenant_id and occurred_at < @cutoff;

-- name: erasures_for_email
-- params: tenant_id STRING, email_sha256 STRING
select request_id, completed_at, outcome
from erasures
where tenant_id = @tenant_id and email_sha256 = @email_sha256
order by completed_at desc
limit 1;

-- name: retention_score_history
-- params: tenant_id STRING, cutoff TIMESTAMP
delete from lead_score_history where tenant_id = @tenant_id and day < date(@cutoff);

-- name: erase_score_history
-- params: tenant_id STRING, lead_id STRING
delete from lead_score_history where tenant_id = @tenant_id and lead_id = @lead_id;

-- name: retention_plan_generations
-- params: tenant_id STRING, cutoff TIMESTAMP
-- A generation holds the lead's analysis in words: it goes with the tenant's retention too.
delete from plan_generations where tenant_id = @tenant_id and planned_at < @cutoff;

-- name: erase_plan_generations
-- params: tenant_id STRING, lead_id STRING
delete from plan_generations where tenant_id = @tenant_id and lead_id = @lead_id;
