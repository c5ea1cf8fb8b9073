-- Queries of the campaign_signals job (oie.jobs.campaign_signals): level crossings and
-- outcomes handed to waiting plans as intent signals, only for leads that ever had a
-- contact campaign (a `start` row in campaign_transitions).

-- name: campaign_signal_level_changes
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- One row per upward level change the score job stamped in (since, until]: a first level
-- counts as upward, a fall does not.
with ranks as (
  select 'cold' as level, 0 as level_rank
  union all select 'warm', 1
  union all select 'hot', 2
  union all select 'burning', 3
),

changes as (
  select c.change_id, c.tenant_id, c.lead_id, c.from_level, c.to_level, c.changed_at
  from lead_level_changes as c
  where c.changed_at > @since and c.changed_at <= @until
),

upward as (
  select c.*
  from changes as c
  inner join ranks as t on t.level = c.to_level
  left join ranks as f on f.level = c.from_level
  where f.level_rank is null or t.level_rank > f.level_rank
),

campaign_leads as (
  select distinct tenant_id, lead_id
  from campaign_transitions
  where trigger = 'start'
),

final as (
  select u.change_id, u.tenant_id, u.lead_id, u.to_level, u.changed_at
  from upward as u
  inner join campaign_leads as l on l.tenant_id = u.tenant_id and l.lead_id = u.lead_id
)

select * from final
order by changed_at, change_id;

-- name: campaign_signal_outcomes
-- params: since TIMESTAMP, until TIMESTAMP, now TIMESTAMP
-- Outcomes recorded since 30 minutes before the last run up to now: the outcomes service
-- enqueues each one itself, so this sweep only repairs a lost hand-off (same task name,
-- refused by Cloud Tasks when the first one got through). The overlap covers rows that
-- became visible after the previous run read.
with recent as (
  select o.outcome_id, o.tenant_id, o.lead_id, o.outcome_type, o.outcome_stage, o.occurred_at
  from lead_outcomes as o
  where o.created_at > timestamp_sub(@since, interval 30 minute) and o.created_at <= @now
),

campaign_leads as (
  select distinct tenant_id, lead_id
  from campaign_transitions
  where trigger = 'start'
),

final as (
  select r.*
  from recent as r
  inner join campaign_leads as l on l.tenant_id = r.tenant_id and l.lead_id = r.lead_id
)

select * from final
order by occurred_at, outcome_id;
