-- The campaign_experiments job, first step: campaign_transitions ("sent" rows that carry a
-- variant_id), message_events, inbound_messages and lead_level_changes -> variant_metrics.
-- A variant is touched when one of its contacts has a new send, event, reply or level change
-- since the last run; each touched variant is recomputed whole from all its contacts and
-- MERGEd on its grain keys, so a re-run, or an overlapping one, writes the same rows.

-- name: variant_metrics
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
merge variant_metrics as t
using (
  with variant_sends as (
    -- Every send of a variant: one row per "sent" transition.
    select
      tenant_id,
      campaign_id,
      to_node as node_id,
      variant_id,
      contact_campaign_id,
      lead_id,
      plan_version,
      occurred_at,
      recorded_at
    from campaign_transitions
    where trigger = 'sent' and variant_id is not null and to_node is not null
  ),

  touched_contacts as (
    select distinct tenant_id, contact_campaign_id
    from variant_sends
    where recorded_at > @since and recorded_at <= @until
    union distinct
    select distinct tenant_id, contact_campaign_id
    from message_events
    where received_at > @since and received_at <= @until and variant_id is not null
    union distinct
    select distinct tenant_id, contact_campaign_id
    from inbound_messages
    where received_at > @since and received_at <= @until and contact_campaign_id is not null
    union distinct
    select distinct s.tenant_id, s.contact_campaign_id
    from lead_level_changes as c
    inner join variant_sends as s on s.tenant_id = c.tenant_id and s.lead_id = c.lead_id
    where c.changed_at > @since and c.changed_at <= @until
  ),

  touched as (
    select distinct s.tenant_id, s.campaign_id, s.node_id, s.variant_id
    from variant_sends as s
    inner join touched_contacts as c on c.tenant_id = s.tenant_id and c.contact_campaign_id = s.contact_campaign_id
  ),

  contacts as (
    -- Grain: one row per contact sent a variant of a node (its first send of that node).
    select
      s.tenant_id,
      s.campaign_id,
      s.node_id,
      s.variant_id,
      s.contact_campaign_id,
      max(s.lead_id) as lead_id,
      max(s.plan_version) as plan_version,
      min(s.occurred_at) as sent_at
    from variant_sends as s
    inner join touched as w
      on w.tenant_id = s.tenant_id and w.campaign_id = s.campaign_id and w.node_id = s.node_id
      and w.variant_id = s.variant_id
    group by s.tenant_id, s.campaign_id, s.node_id, s.variant_id, s.contact_campaign_id
  ),

  engagement as (
    -- Per contact: what its message of that node and variant went through (people only).
    select
      c.tenant_id,
      c.contact_campaign_id,
      c.node_id,
      c.variant_id,
      logical_or(e.event_type = 'delivered') as is_delivered,
      logical_or(e.event_type = 'open' and not e.is_machine_open) as is_opened,
      logical_or(e.event_type = 'click' and not e.is_scanner_click) as is_clicked
    from contacts as c
    inner join message_events as e
      on e.tenant_id = c.tenant_id and e.contact_campaign_id = c.contact_campaign_id and e.node_id = c.node_id
      and e.variant_id = c.variant_id
    group by c.tenant_id, c.contact_campaign_id, c.node_id, c.variant_id
  ),

  replies as (
    -- Per contact: a reply (not an auto-reply) to that node's message after it was sent.
    select distinct c.tenant_id, c.contact_campaign_id, c.node_id, c.variant_id
    from contacts as c
    inner join inbound_messages as i
      on i.tenant_id = c.tenant_id and i.contact_campaign_id = c.contact_campaign_id and i.node_id = c.node_id
    where not i.is_auto_reply and i.received_at >= c.sent_at
  ),

  turned_hot as (
    -- Per contact: the lead crossed into hot or burning after the variant was sent.
    select distinct c.tenant_id, c.contact_campaign_id, c.node_id, c.variant_id
    from contacts as c
    inner join lead_level_changes as l on l.tenant_id = c.tenant_id and l.lead_id = c.lead_id
    where
      l.to_level in ('hot', 'burning') and coalesce(l.from_level, 'cold') not in ('hot', 'burning')
      and l.changed_at > c.sent_at
  ),

  contact_funnel as (
    select
      c.tenant_id,
      c.campaign_id,
      c.node_id,
      c.variant_id,
      c.sent_at,
      first_value(c.plan_version) over (
        partition by c.tenant_id, c.campaign_id, c.node_id, c.variant_id
        order by c.sent_at desc, c.contact_campaign_id
      ) as latest_plan_version,
      coalesce(e.is_delivered, false) as is_delivered,
      coalesce(e.is_opened, false) as is_opened,
      coalesce(e.is_clicked, false) as is_clicked,
      r.contact_campaign_id is not null as is_replied,
      h.contact_campaign_id is not null as is_hot
    from contacts as c
    left join engagement as e
      on e.tenant_id = c.tenant_id and e.contact_campaign_id = c.contact_campaign_id and e.node_id = c.node_id
      and e.variant_id = c.variant_id
    left join replies as r
      on r.tenant_id = c.tenant_id and r.contact_campaign_id = c.contact_campaign_id and r.node_id = c.node_id
      and r.variant_id = c.variant_id
    left join turned_hot as h
      on h.tenant_id = c.tenant_id and h.contact_campaign_id = c.contact_campaign_id and h.node_id = c.node_id
      and h.variant_id = c.variant_id
  ),

  final as (
    -- Grain: one row per (tenant, campaign, node, variant); every count is contacts.
    select
      tenant_id,
      campaign_id,
      node_id,
      variant_id,
      max(latest_plan_version) as plan_version,
      count(*) as sent,
      countif(is_delivered) as delivered,
      countif(is_opened) as opened,
      countif(is_clicked) as clicked,
      countif(is_replied) as replied,
      countif(is_hot) as became_hot,
      min(sent_at) as first_sent_at,
      max(sent_at) as last_sent_at,
      @now as updated_at
    from contact_funnel
    group by tenant_id, campaign_id, node_id, variant_id
  )

  select * from final
) as s
on
  t.tenant_id = s.tenant_id and t.campaign_id = s.campaign_id and t.node_id = s.node_id
  and t.variant_id = s.variant_id
when matched then update set
  plan_version = s.plan_version,
  sent = s.sent,
  delivered = s.delivered,
  opened = s.opened,
  clicked = s.clicked,
  replied = s.replied,
  became_hot = s.became_hot,
  first_sent_at = s.first_sent_at,
  last_sent_at = s.last_sent_at,
  updated_at = s.updated_at
when not matched then insert (
  tenant_id, campaign_id, node_id, variant_id, plan_version, sent, delivered, opened, clicked, replied,
  became_hot, first_sent_at, last_sent_at, updated_at
) values (
  s.tenant_id, s.campaign_id, s.node_id, s.variant_id, s.plan_version, s.sent, s.delivered, s.opened,
  s.clicked, s.replied, s.became_hot, s.first_sent_at, s.last_sent_at, s.updated_at
);

-- name: experiment_nodes_touched
-- params: now TIMESTAMP
-- Every variant of each send node whose variant_metrics the run just rewrote (updated_at =
-- @now), with the node's last recorded decision: what the job decides over.
with nodes as (
  select distinct tenant_id, campaign_id, node_id
  from variant_metrics
  where updated_at = @now
),

final as (
  select
    v.tenant_id,
    v.campaign_id,
    v.node_id,
    v.variant_id,
    v.plan_version,
    v.sent,
    v.delivered,
    v.opened,
    v.clicked,
    v.replied,
    v.became_hot,
    v.last_sent_at,
    d.winner_variant_id,
    d.decided_at
  from variant_metrics as v
  inner join nodes as n on n.tenant_id = v.tenant_id and n.campaign_id = v.campaign_id and n.node_id = v.node_id
  left join experiment_decisions as d
    on d.tenant_id = v.tenant_id and d.campaign_id = v.campaign_id and d.node_id = v.node_id
)

select * from final
order by tenant_id, campaign_id, node_id, variant_id
