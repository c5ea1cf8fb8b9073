-- lead_timeline: one row per thing a lead did, in order: clicks on its links (human or
-- not, per email_click_quality), sessions (at their start), pixel events tied to it by
-- their own tracking id (events_identified; bots and forged identity proofs left out)
-- and changes of its intent level. sequence_number counts 1, 2, 3 … per lead by time;
-- activity_id is the source row's key (click, session, event or level change id).
create or replace view lead_timeline as

with clicks as (
  select
    tenant_id,
    lead_id,
    clicked_at as occurred_at,
    'click' as kind,
    case
      when is_human then 'human click'
      when is_scanner_burst then 'scanner click (burst)'
      else 'bot click'
    end as detail,
    cast(null as string) as page_path,
    is_human,
    click_id as activity_id
  from email_click_quality
  where lead_id is not null
),

session_starts as (
  select
    tenant_id,
    lead_id,
    session_start as occurred_at,
    'session' as kind,
    concat(
      'session: ', cast(pageviews as string), ' pageviews, ', cast(duration_s as string), ' s'
    ) as detail,
    entry_page as page_path,
    cast(null as bool) as is_human,
    session_id as activity_id
  from sessions
  where lead_id is not null
),

pixel_events as (
  select
    tenant_id,
    lead_id,
    occurred_at,
    'event' as kind,
    event_type as detail,
    page_path,
    cast(null as bool) as is_human,
    event_id as activity_id
  from events_identified
  where lead_id is not null and not is_bot and identity_status != 'forged'
  qualify row_number() over (partition by tenant_id, event_id order by received_at) = 1
),

level_changes as (
  select
    tenant_id,
    lead_id,
    changed_at as occurred_at,
    'level_change' as kind,
    concat(coalesce(from_level, 'new'), ' -> ', to_level) as detail,
    cast(null as string) as page_path,
    cast(null as bool) as is_human,
    change_id as activity_id
  from lead_level_changes
),

activities as (
  select * from clicks
  union all
  select * from session_starts
  union all
  select * from pixel_events
  union all
  select * from level_changes
),

final as (
  select
    tenant_id,
    lead_id,
    row_number() over (
      partition by tenant_id, lead_id
      order by
        occurred_at,
        case kind when 'click' then 1 when 'session' then 2 when 'event' then 3 else 4 end,
        activity_id
    ) as sequence_number,
    occurred_at,
    kind,
    detail,
    page_path,
    is_human,
    activity_id
  from activities
)

select * from final;
