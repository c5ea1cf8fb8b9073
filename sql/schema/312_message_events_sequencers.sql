-- message_events from Smartlead and Instantly (source 'smartlead' / 'instantly'): the
-- sequencer's own campaign and message ids, next to ours (campaign_id, contact_campaign_id:
-- the campaign of the lead's tracking link). Null on SendGrid's rows. Additive, so a
-- warehouse migrated before it gains the columns too.
alter table message_events add column if not exists provider_campaign_id string;
alter table message_events add column if not exists provider_message_id string;
