-- The message_metrics job: message_events and inbound_messages -> hourly rollups per contact
-- campaign, then daily rollups per campaign and per tenant (with the intent the campaign's
-- leads showed). Every bucket touched since the last run is recomputed whole from all its
-- rows and MERGEd on its grain keys: a re-run, or an overlapping one, writes the same rows.

-- name: message_metrics_hourly
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
merge message_metrics_hourly as t
using (
  with touched as (
    select distinct tenant_id, timestamp_trunc(occurred_at, hour) as hour_start
    from message_events
    where received_at > @since and received_at <= @until
    union distinct
    select distinct tenant_id, timestamp_trunc(received_at, hour) as hour_start
    from inbound_messages
    where received_at > @since and received_at <= @until
  ),

  single_campaign as (
    -- A recipient imported into exactly one campaign: events without a campaign_id belong there.
    -- HAVING sees select aliases in BigQuery: the alias must not shadow the aggregated column.
    select tenant_id, email_sha256, min(campaign_id) as only_campaign_id
    from identity_map
    where email_sha256 is not null
    group by tenant_id, email_sha256
    having count(distinct campaign_id) = 1
  ),

  events as (
    select
      e.tenant_id,
      e.contact_campaign_id,
      timestamp_trunc(e.occurred_at, hour) as hour_start,
      coalesce(e.campaign_id, m.only_campaign_id) as campaign_id,
      e.dedup_key,
      e.event_type,
      e.source,
      e.is_machine_open,
      e.is_scanner_click
    from message_events as e
    inner join touched as w on w.tenant_id = e.tenant_id and w.hour_start = timestamp_trunc(e.occurred_at, hour)
    left join single_campaign as m on m.tenant_id = e.tenant_id and m.email_sha256 = e.email_sha256
    where e.contact_campaign_id is not null
  ),

  event_counts as (
    select
      tenant_id,
      contact_campaign_id,
      hour_start,
      max(campaign_id) as campaign_id,
      count(distinct if(event_type = 'processed', dedup_key, null)) as sent,
      count(distinct if(event_type = 'delivered', dedup_key, null)) as delivered,
      count(distinct if(event_type = 'open' and not is_machine_open, dedup_key, null)) as opened,
      count(distinct if(event_type = 'open' and is_machine_open, dedup_key, null)) as machine_opens,
      count(distinct if(event_type = 'click' and not is_scanner_click, dedup_key, null)) as clicked,
      count(distinct if(event_type = 'click' and is_scanner_click, dedup_key, null)) as scanner_clicks,
      count(distinct if(event_type in ('bounce', 'dropped'), dedup_key, null)) as bounced,
      count(distinct if(event_type in ('unsubscribe', 'group_unsubscribe'), dedup_key, null)) as unsubscribed,
      count(distinct if(event_type = 'spamreport', dedup_key, null)) as spam_reports,
      -- Smartlead and Instantly report replies as events; SendGrid's come from inbound_messages.
      count(distinct if(event_type = 'reply', dedup_key, null)) as replied_events,
      countif(source in ('sendgrid', 'smartlead', 'instantly')) as events_received,
      count(distinct if(source in ('sendgrid', 'smartlead', 'instantly'), dedup_key, null)) as unique_events
    from events
    group by tenant_id, contact_campaign_id, hour_start
  ),

  reply_counts as (
    select
      i.tenant_id,
      i.contact_campaign_id,
      w.hour_start,
      countif(not i.is_auto_reply) as replied,
      countif(i.is_auto_reply) as auto_replies
    from inbound_messages as i
    inner join touched as w on w.tenant_id = i.tenant_id and w.hour_start = timestamp_trunc(i.received_at, hour)
    where i.contact_campaign_id is not null
    group by i.tenant_id, i.contact_campaign_id, w.hour_start
  ),

  final as (
    select
      coalesce(e.tenant_id, r.tenant_id) as tenant_id,
      coalesce(e.contact_campaign_id, r.contact_campaign_id) as contact_campaign_id,
      coalesce(e.hour_start, r.hour_start) as hour_start,
      e.campaign_id,
      coalesce(e.sent, 0) as sent,
      coalesce(e.delivered, 0) as delivered,
      coalesce(e.opened, 0) as opened,
      coalesce(e.machine_opens, 0) as machine_opens,
      coalesce(e.clicked, 0) as clicked,
      coalesce(e.scanner_clicks, 0) as scanner_clicks,
      coalesce(r.replied, 0) + coalesce(e.replied_events, 0) as replied,
      coalesce(r.auto_replies, 0) as auto_replies,
      coalesce(e.bounced, 0) as bounced,
      coalesce(e.unsubscribed, 0) as unsubscribed,
      coalesce(e.spam_reports, 0) as spam_reports,
      coalesce(e.events_received, 0) as events_received,
      coalesce(e.unique_events, 0) as unique_events,
      safe_divide(e.events_received - e.unique_events, e.events_received) as duplicate_rate,
      @now as updated_at
    from event_counts as e
    full outer join reply_counts as r
      on r.tenant_id = e.tenant_id and r.contact_campaign_id = e.contact_campaign_id and r.hour_start = e.hour_start
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.contact_campaign_id = s.contact_campaign_id and t.hour_start = s.hour_start
when matched then update set
  campaign_id = s.campaign_id,
  sent = s.sent,
  delivered = s.delivered,
  opened = s.opened,
  machine_opens = s.machine_opens,
  clicked = s.clicked,
  scanner_clicks = s.scanner_clicks,
  replied = s.replied,
  auto_replies = s.auto_replies,
  bounced = s.bounced,
  unsubscribed = s.unsubscribed,
  spam_reports = s.spam_reports,
  events_received = s.events_received,
  unique_events = s.unique_events,
  duplicate_rate = s.duplicate_rate,
  updated_at = s.updated_at
when not matched then insert (
  tenant_id, contact_campaign_id, hour_start, campaign_id, sent, delivered, opened, machine_opens, clicked,
  scanner_clicks, replied, auto_replies, bounced, unsubscribed, spam_reports, events_received, unique_events,
  duplicate_rate, updated_at
) values (
  s.tenant_id, s.contact_campaign_id, s.hour_start, s.campaign_id, s.sent, s.delivered, s.opened, s.machine_opens,
  s.clicked, s.scanner_clicks, s.replied, s.auto_replies, s.bounced, s.unsubscribed, s.spam_reports,
  s.events_received, s.unique_events, s.duplicate_rate, s.updated_at
);

-- name: message_metrics_campaign_daily
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
merge message_metrics_campaign_daily as t
using (
  with touched as (
    -- Days whose hourly rows this run rewrote, and days the campaigns' leads were active since the last run.
    select distinct tenant_id, date(hour_start) as day from message_metrics_hourly where updated_at = @now
    union distinct
    select distinct tenant_id, date(session_start) as day
    from sessions
    where updated_at > @since and updated_at <= @until
    union distinct
    select distinct tenant_id, date(changed_at) as day
    from lead_level_changes
    where changed_at > @since and changed_at <= @until
  ),

  messages as (
    select
      h.tenant_id,
      h.campaign_id,
      w.day,
      sum(h.sent) as sent,
      sum(h.delivered) as delivered,
      sum(h.opened) as opened,
      sum(h.clicked) as clicked,
      sum(h.replied) as replied,
      sum(h.bounced) as bounced,
      sum(h.unsubscribed) as unsubscribed,
      sum(h.spam_reports) as spam_reports,
      sum(h.events_received) as events_received,
      sum(h.unique_events) as unique_events
    from message_metrics_hourly as h
    inner join touched as w on w.tenant_id = h.tenant_id and w.day = date(h.hour_start)
    where h.campaign_id is not null
    group by h.tenant_id, h.campaign_id, w.day
  ),

  campaign_leads as (
    select distinct m.tenant_id, m.campaign_id, m.lead_id
    from identity_map as m
    inner join (select distinct tenant_id, campaign_id from message_metrics_hourly) as c
      on c.tenant_id = m.tenant_id and c.campaign_id = m.campaign_id
  ),

  visits as (
    select
      l.tenant_id,
      l.campaign_id,
      w.day,
      count(*) as visits,
      count(distinct s.lead_id) as leads_visited
    from campaign_leads as l
    inner join sessions as s on s.tenant_id = l.tenant_id and s.lead_id = l.lead_id
    inner join touched as w on w.tenant_id = s.tenant_id and w.day = date(s.session_start)
    group by l.tenant_id, l.campaign_id, w.day
  ),

  turned_hot as (
    select
      l.tenant_id,
      l.campaign_id,
      w.day,
      count(distinct c.lead_id) as leads_turned_hot
    from campaign_leads as l
    inner join lead_level_changes as c on c.tenant_id = l.tenant_id and c.lead_id = l.lead_id
    inner join touched as w on w.tenant_id = c.tenant_id and w.day = date(c.changed_at)
    where c.to_level in ('hot', 'burning') and coalesce(c.from_level, 'cold') not in ('hot', 'burning')
    group by l.tenant_id, l.campaign_id, w.day
  ),

  grain as (
    select tenant_id, campaign_id, day from messages
    union distinct
    select tenant_id, campaign_id, day from visits
    union distinct
    select tenant_id, campaign_id, day from turned_hot
  ),

  final as (
    select
      g.tenant_id,
      g.campaign_id,
      g.day,
      coalesce(m.sent, 0) as sent,
      coalesce(m.delivered, 0) as delivered,
      coalesce(m.opened, 0) as opened,
      coalesce(m.clicked, 0) as clicked,
      coalesce(m.replied, 0) as replied,
      coalesce(m.bounced, 0) as bounced,
      coalesce(m.unsubscribed, 0) as unsubscribed,
      coalesce(m.spam_reports, 0) as spam_reports,
      coalesce(m.events_received, 0) as events_received,
      coalesce(m.unique_events, 0) as unique_events,
      safe_divide(m.events_received - m.unique_events, m.events_received) as duplicate_rate,
      coalesce(v.visits, 0) as visits,
      coalesce(v.leads_visited, 0) as leads_visited,
      coalesce(h.leads_turned_hot, 0) as leads_turned_hot,
      @now as updated_at
    from grain as g
    left join messages as m on m.tenant_id = g.tenant_id and m.campaign_id = g.campaign_id and m.day = g.day
    left join visits as v on v.tenant_id = g.tenant_id and v.campaign_id = g.campaign_id and v.day = g.day
    left join turned_hot as h on h.tenant_id = g.tenant_id and h.campaign_id = g.campaign_id and h.day = g.day
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.campaign_id = s.campaign_id and t.day = s.day
when matched then update set
  sent = s.sent,
  delivered = s.delivered,
  opened = s.opened,
  clicked = s.clicked,
  replied = s.replied,
  bounced = s.bounced,
  unsubscribed = s.unsubscribed,
  spam_reports = s.spam_reports,
  events_received = s.events_received,
  unique_events = s.unique_events,
  duplicate_rate = s.duplicate_rate,
  visits = s.visits,
  leads_visited = s.leads_visited,
  leads_turned_hot = s.leads_turned_hot,
  updated_at = s.updated_at
when not matched then insert (
  tenant_id, campaign_id, day, sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_reports,
  events_received, unique_events, duplicate_rate, visits, leads_visited, leads_turned_hot, updated_at
) values (
  s.tenant_id, s.campaign_id, s.day, s.sent, s.delivered, s.opened, s.clicked, s.replied, s.bounced,
  s.unsubscribed, s.spam_reports, s.events_received, s.unique_events, s.duplicate_rate, s.visits,
  s.leads_visited, s.leads_turned_hot, s.updated_at
);

-- name: message_metrics_tenant_daily
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
merge message_metrics_tenant_daily as t
using (
  with touched as (
    select distinct tenant_id, date(hour_start) as day from message_metrics_hourly where updated_at = @now
    union distinct
    select distinct tenant_id, day from message_metrics_campaign_daily where updated_at = @now
  ),

  messages as (
    select
      h.tenant_id,
      w.day,
      sum(h.sent) as sent,
      sum(h.delivered) as delivered,
      sum(h.opened) as opened,
      sum(h.clicked) as clicked,
      sum(h.replied) as replied,
      sum(h.bounced) as bounced,
      sum(h.unsubscribed) as unsubscribed,
      sum(h.spam_reports) as spam_reports,
      sum(h.events_received) as events_received,
      sum(h.unique_events) as unique_events
    from message_metrics_hourly as h
    inner join touched as w on w.tenant_id = h.tenant_id and w.day = date(h.hour_start)
    group by h.tenant_id, w.day
  ),

  messaged_leads as (
    select distinct m.tenant_id, m.lead_id
    from identity_map as m
    inner join (select distinct tenant_id, campaign_id from message_metrics_hourly) as c
      on c.tenant_id = m.tenant_id and c.campaign_id = m.campaign_id
  ),

  visits as (
    select
      s.tenant_id,
      w.day,
      count(*) as visits,
      count(distinct s.lead_id) as leads_visited
    from sessions as s
    inner join messaged_leads as l on l.tenant_id = s.tenant_id and l.lead_id = s.lead_id
    inner join touched as w on w.tenant_id = s.tenant_id and w.day = date(s.session_start)
    group by s.tenant_id, w.day
  ),

  turned_hot as (
    select
      c.tenant_id,
      w.day,
      count(distinct c.lead_id) as leads_turned_hot
    from lead_level_changes as c
    inner join messaged_leads as l on l.tenant_id = c.tenant_id and l.lead_id = c.lead_id
    inner join touched as w on w.tenant_id = c.tenant_id and w.day = date(c.changed_at)
    where c.to_level in ('hot', 'burning') and coalesce(c.from_level, 'cold') not in ('hot', 'burning')
    group by c.tenant_id, w.day
  ),

  final as (
    select
      w.tenant_id,
      w.day,
      coalesce(m.sent, 0) as sent,
      coalesce(m.delivered, 0) as delivered,
      coalesce(m.opened, 0) as opened,
      coalesce(m.clicked, 0) as clicked,
      coalesce(m.replied, 0) as replied,
      coalesce(m.bounced, 0) as bounced,
      coalesce(m.unsubscribed, 0) as unsubscribed,
      coalesce(m.spam_reports, 0) as spam_reports,
      coalesce(m.events_received, 0) as events_received,
      coalesce(m.unique_events, 0) as unique_events,
      safe_divide(m.events_received - m.unique_events, m.events_received) as duplicate_rate,
      coalesce(v.visits, 0) as visits,
      coalesce(v.leads_visited, 0) as leads_visited,
      coalesce(h.leads_turned_hot, 0) as leads_turned_hot,
      @now as updated_at
    from touched as w
    left join messages as m on m.tenant_id = w.tenant_id and m.day = w.day
    left join visits as v on v.tenant_id = w.tenant_id and v.day = w.day
    left join turned_hot as h on h.tenant_id = w.tenant_id and h.day = w.day
  )

  select * from final
) as s
on t.tenant_id = s.tenant_id and t.day = s.day
when matched then update set
  sent = s.sent,
  delivered = s.delivered,
  opened = s.opened,
  clicked = s.clicked,
  replied = s.replied,
  bounced = s.bounced,
  unsubscribed = s.unsubscribed,
  spam_reports = s.spam_reports,
  events_received = s.events_received,
  unique_events = s.unique_events,
  duplicate_rate = s.duplicate_rate,
  visits = s.visits,
  leads_visited = s.leads_visited,
  leads_turned_hot = s.leads_turned_hot,
  updated_at = s.updated_at
when not matched then insert (
  tenant_id, day, sent, delivered, opened, clicked, replied, bounced, unsubscribed, spam_reports,
  events_received, unique_events, duplicate_rate, visits, leads_visited, leads_turned_hot, updated_at
) values (
  s.tenant_id, s.day, s.sent, s.delivered, s.opened, s.clicked, s.replied, s.bounced, s.unsubscribed,
  s.spam_reports, s.events_received, s.unique_events, s.duplicate_rate, s.visits, s.leads_visited,
  s.leads_turned_hot, s.updated_at
);
