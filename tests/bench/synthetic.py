"""Synthetic warehouse history for the job benchmarks, generated inside DuckDB.

Everything is SQL over `range()` and `hash()`: no row passes through Python, and every
value is a pure function of a visitor's number, so the same visitor has the same tenant,
lead, device and sessions at every scale. That is what lets the benchmark add *the same*
one-hour batch to a history at 1x and at 4x: the batch's "existing" visitors are numbers
below the 1x visitor count, present in both histories.

Shape at scale s (s = 1 is ~1M events / 100k leads):
  - leads: 100_000 * s, one tracking link each in identity_map (a fifth have a second
    campaign link), with the sha256 of the lead's email, in two tenants (acme 80%, globex);
  - visitors: VISITORS_PER_SCALE * s; 70% carry a lead's tracking id from some session on
    (earlier sessions are anonymous, so the sessionize backfill has work), a few are bots;
  - sessions: 1-6 per visitor, the first anywhere in the 90 days before NOW, the next ones
    1 hour to 14 days apart; 2-7 events each, 10-100 s apart (pageviews, scrolls,
    active_time, clicks, occasional form_start/form_submit/video/visibility/return_visit),
    over /, /pricing, /case-studies/x, /product/y, /features, /blog/..., /docs/...;
  - received_at = occurred_at + 1..5 s, so history ends at NOW;
  - the hour batch: HOUR_VISITORS visitors with one session each, received in
    (NOW, NOW + 1h]: 2000 existing visitors (a quarter continue a session the history left
    open a few minutes before NOW) and 1000 new ones (60% arriving from an email link of an
    existing lead, some typing a lead's email into a form).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

NOW = datetime(2026, 3, 2, tzinfo=UTC)
HISTORY_DAYS = 90
LEADS_PER_SCALE = 100_000
VISITORS_PER_SCALE = 88_000
HOUR_EXISTING = 2_000
HOUR_NEW = 1_000
HOUR_VISITORS = HOUR_EXISTING + HOUR_NEW
_STRIDE = 7919  # prime, coprime with the visitor counts: picks distinct existing visitors

_NOW_SQL = f"timestamptz '{NOW.strftime('%Y-%m-%d %H:%M:%S')}+00'"

# One visitor's fixed attributes, from its key (vkey) alone. `lead_idx` is the lead whose
# tracking id it carries (identified visitors) or whose tenant it lives in (the others).
_VISITOR_COLUMNS = """
  'v' || lpad(vkey::varchar, 12, '0') as visitor_id,
  hash(vkey, 3) % 100 < 70 as identified,
  hash(vkey, 9) % 100 < 2 as bot,
  ['desktop', 'desktop', 'desktop', 'desktop', 'desktop', 'desktop', 'desktop', 'mobile', 'mobile', 'tablet']
    [1 + (hash(vkey, 14) % 10)::int] as device,
  ['Chrome', 'Chrome', 'Chrome', 'Safari', 'Safari', 'Firefox', 'Edge'][1 + (hash(vkey, 15) % 7)::int] as browser,
  ['Windows', 'Windows', 'macOS', 'macOS', 'Linux', 'iOS', 'Android'][1 + (hash(vkey, 16) % 7)::int] as os,
  ['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'NL', 'IN', 'AU'][1 + (hash(vkey, 17) % 10)::int] as country,
  case when hash(vkey, 18) % 100 < 40 then 'Company ' || (hash(vkey, 19) % 5000)::varchar end as company,
  case when hash(vkey, 10) % 1000 < 3 then 'forged'
       when hash(vkey, 10) % 1000 < 50 then 'unverified'
       else 'verified' end as link_status
"""

_PATH = """
  case
    when p < 12 then '/pricing'
    when p < 20 then '/case-studies/' || ['acme-corp', 'globex', 'initech', 'umbrella', 'hooli'][1 + (h2 % 5)::int]
    when p < 34 then '/product/' || ['analytics', 'intent', 'alerts', 'integrations'][1 + (h2 % 4)::int]
    when p < 40 then '/features'
    when p < 62 then '/blog/post-' || (h2 % 300)::varchar
    when p < 72 then '/docs/' || ['setup', 'pixel', 'api', 'faq'][1 + (h2 % 4)::int]
    when p < 76 then '/customers'
    when p < 80 then '/about'
    else '/'
  end
"""


def _exec(db: duckdb.DuckDBPyConnection, sql: str) -> None:
    db.execute(sql)


def _count(db: duckdb.DuckDBPyConnection, table: str) -> int:
    row = db.execute(f"select count(*) from {table}").fetchone()
    return int(row[0]) if row else 0


def _lead_table(db: duckdb.DuckDBPyConnection, leads: int) -> None:
    _exec(
        db,
        f"""
        create or replace temp table syn_leads as
        select
          l as lead_idx,
          case when hash(l, 11) % 5 = 0 then 'globex' else 'acme' end as tenant_id,
          'ld_' || lpad(l::varchar, 10, '0') as lead_id,
          'tk' || lpad(l::varchar, 10, '0') as tracking_id,
          'lead' || l::varchar || '@corp' || (l % 997)::varchar || '.example' as email
        from range({leads}) as t(l)
        """,
    )


def _events_from_specs(db: duckdb.DuckDBPyConnection, specs: str, until_sql: str) -> int:
    """Expand a session-spec table into `events` rows (ordered by arrival, as /track writes them).

    A spec row: vkey, s (the visitor's session number), visitor attributes, tenant_id,
    tracking_id, identity_status, email (for form_submit), start (timestamptz), k (events),
    step_s (seconds between events), visit (visit number).
    """
    before = _count(db, "events")
    _exec(
        db,
        f"""
        insert into events by name
        with expanded as (
          select sp.*, unnest(range(sp.k)) as i from {specs} as sp
        ),
        hashed as (
          select *, hash(vkey, s, i, 7) % 1000 as r, hash(vkey, s, i, 8) % 100 as p, hash(vkey, s, i, 12) as h2
          from expanded
        ),
        typed as (
          select
            *,
            case
              when i = 0 then 'pageview'
              when r < 330 then 'pageview'
              when r < 580 then 'scroll'
              when r < 760 then 'active_time'
              when r < 880 then 'click'
              when r < 905 then 'form_start'
              when r < 925 then 'form_submit'
              when r < 955 then 'video'
              when r < 985 or visit = 1 then 'visibility'
              else 'return_visit'
            end as event_type,
            {_PATH} as path,
            start + to_seconds((i * step_s)::bigint) as t_at
          from hashed
        )
        select
          visitor_id || '.e' || lpad(s::varchar, 3, '0') || lpad(i::varchar, 3, '0') as event_id,
          tenant_id,
          visitor_id,
          visitor_id || '.s' || s::varchar as session_id,
          tracking_id,
          identity_status,
          event_type,
          t_at as occurred_at,
          t_at + to_seconds((1 + h2 % 5)::bigint) as received_at,
          'https://www.' || tenant_id || '.example' || path as page_url,
          'www.' || tenant_id || '.example' as page_host,
          path as page_path,
          (case event_type
            when 'pageview' then '{{"title":"Page ' || p::varchar || '","referrer":"","spa":false}}'
            when 'scroll' then '{{"depth":' || [25, 50, 75, 90, 100][1 + (h2 % 5)::int]::varchar || '}}'
            when 'active_time' then '{{"ms":' || (5000 + h2 % 115000)::varchar || '}}'
            when 'click' then '{{"tag":"a","text":"Learn more","href":"/pricing","cta":' ||
              (case when h2 % 4 = 0 then 'true' else 'false' end) || '}}'
            when 'form_start' then '{{"form_id":"demo","form_name":"Book a demo"}}'
            when 'form_submit' then '{{"form_id":"demo","form_name":"Book a demo","fields":["email","name"]}}'
            when 'video' then '{{"action":"' || ['play', 'play', 'progress', 'complete'][1 + (h2 % 4)::int] ||
              '","src":"/media/demo.mp4","duration":94.0}}'
            when 'visibility' then '{{"state":"hidden"}}'
            else '{{"visit":' || visit::varchar || '}}'
          end)::json as props,
          case when event_type = 'form_submit' and email is not null then sha256(email) end as email_sha256,
          case when event_type = 'form_submit' and email is not null then sha1(email) end as email_sha1,
          case when event_type = 'form_submit' and email is not null then md5(email) end as email_md5,
          'Mozilla/5.0 (' || os || ') ' || browser || '/131.0' as user_agent,
          browser,
          '131.0' as browser_version,
          os,
          case when bot then 'bot' else device end as device_type,
          case when device = 'desktop' then 1440 else 390 end as viewport_width,
          case when device = 'desktop' then 900 else 844 end as viewport_height,
          case when device = 'desktop' then 1920 else 390 end as screen_width,
          case when device = 'desktop' then 1080 else 844 end as screen_height,
          'en-US' as language,
          0 as tz_offset_min,
          visit as visit_number,
          '203.0.' || (vkey % 250)::varchar || '.' || (vkey % 200)::varchar as ip,
          country,
          null as region,
          null as city,
          company as company_name,
          case when company is not null then lower(replace(company, ' ', '')) || '.example' end as company_domain,
          bot as is_bot,
          case when bot then ['user_agent:spider'] else []::varchar[] end as bot_reasons
        from typed
        where t_at + to_seconds((1 + h2 % 5)::bigint) <= {until_sql}
        order by received_at
        """,
    )
    return _count(db, "events") - before


def build_history(db: duckdb.DuckDBPyConnection, scale: float) -> dict[str, int]:
    """identity_map and `events` for the 90 days before NOW, at `scale` (into a migrated warehouse)."""
    leads = int(LEADS_PER_SCALE * scale)
    visitors = int(VISITORS_PER_SCALE * scale)
    span = HISTORY_DAYS * 86400 - 3600
    _lead_table(db, leads)
    _exec(
        db,
        f"""
        insert into identity_map by name
        select tenant_id, tracking_id || suffix as tracking_id, lead_id,
               case when suffix = '' then 'q1-outbound' else 'q1-followup' end as campaign_id,
               sha256(email) as email_sha256,
               {_NOW_SQL} - interval 100 day + to_seconds((hash(lead_idx, 20) % 864000)::bigint) as created_at
        from syn_leads, (select '' as suffix union all select 'b') as x
        where suffix = '' or hash(lead_idx, 22) % 5 = 0
        order by tenant_id, tracking_id
        """,
    )
    # Visitors: vkey 0..visitors-1; the lead is a function of vkey alone (scale-independent).
    _exec(
        db,
        f"""
        create or replace temp table syn_visitors as
        select vkey, {_VISITOR_COLUMNS},
               ((vkey * 9) // 8 + hash(vkey, 2) % 2)::bigint as lead_idx,
               (1 + hash(vkey, 4) % 6)::bigint as n_sessions
        from range({visitors}) as t(vkey)
        """,
    )
    # Session starts: the first anywhere in the span, then 1 h to 14 days apart.
    _exec(
        db,
        f"""
        create or replace temp table syn_history_specs as
        with numbered as (
          select v.*, unnest(range(v.n_sessions)) as s from syn_visitors as v
        ),
        offsets as (
          select *,
            hash(vkey, 5) % {span} + sum(case when s = 0 then 0 else 3600 + hash(vkey, s, 6) % (14 * 86400) end)
              over (partition by vkey order by s rows between unbounded preceding and current row) as offset_s
          from numbered
        )
        select o.vkey, o.s, o.visitor_id, o.bot, o.device, o.browser, o.os, o.country, o.company,
               l.tenant_id,
               case when o.identified and o.s >= hash(o.vkey, 13) % o.n_sessions then l.tracking_id end
                 as tracking_id,
               case when o.identified and o.s >= hash(o.vkey, 13) % o.n_sessions then o.link_status
                 else 'anonymous' end as identity_status,
               case when o.identified then l.email else 'anon' || o.vkey::varchar || '@mail.example' end as email,
               {_NOW_SQL} - interval {HISTORY_DAYS} day + to_seconds(o.offset_s::bigint) as start,
               (2 + hash(o.vkey, o.s, 23) % 6)::bigint as k,
               (10 + hash(o.vkey, o.s, 24) % 90)::bigint as step_s,
               o.s + 1 as visit
        from offsets as o
        join syn_leads as l on l.lead_idx = o.lead_idx
        where o.offset_s <= {span}
        """,
    )
    # The sessions the hour batch will continue: left open 16-25 minutes before NOW.
    _hour_visitor_table(db)
    _exec(
        db,
        f"""
        insert into syn_history_specs
        select vkey, 99 as s, visitor_id, bot, device, browser, os, country, company, tenant_id,
               tracking_id, identity_status, email,
               {_NOW_SQL} - to_seconds((25 * 60 - (j % 10) * 30)::bigint) as start,
               4::bigint as k, 180::bigint as step_s, visit
        from syn_hour_visitors
        where existing and continuing
        """,
    )
    events = _events_from_specs(db, "syn_history_specs", _NOW_SQL)
    return {"leads": leads, "visitors": visitors, "events": events}


def _hour_visitor_table(db: duckdb.DuckDBPyConnection) -> None:
    """The batch's visitors: existing ones (numbers below the 1x visitor count) and new ones."""
    leads_1x = LEADS_PER_SCALE
    visitors_1x = VISITORS_PER_SCALE
    _lead_table_1x = f"""
        (select l as lead_idx,
                case when hash(l, 11) % 5 = 0 then 'globex' else 'acme' end as tenant_id,
                'tk' || lpad(l::varchar, 10, '0') as tracking_id,
                'lead' || l::varchar || '@corp' || (l % 997)::varchar || '.example' as email
         from range({leads_1x}) as t(l))
    """
    _exec(
        db,
        f"""
        create or replace temp table syn_hour_visitors as
        with picked as (
          select j,
                 j < {HOUR_EXISTING} as existing,
                 case when j < {HOUR_EXISTING} then (j * {_STRIDE}) % {visitors_1x}
                      else 1000000000 + j end as vkey
          from range({HOUR_VISITORS}) as t(j)
        ),
        attrs as (
          select p.*, {_VISITOR_COLUMNS},
                 case when existing then (vkey * 9) // 8 + hash(vkey, 2) % 2 else hash(vkey, 21) % {leads_1x} end
                   as lead_idx,
                 case when existing then 1 + hash(vkey, 4) % 6 else 0 end as visit
          from picked as p
        )
        select a.j, a.existing, a.j % 4 = 0 as continuing, a.vkey, a.visitor_id, a.bot, a.device, a.browser,
               a.os, a.country, a.company, l.tenant_id,
               case when a.existing and a.identified then l.tracking_id
                    when not a.existing and hash(a.vkey, 25) % 100 < 60 then l.tracking_id end as tracking_id,
               case when a.existing and a.identified then a.link_status
                    when not a.existing and hash(a.vkey, 25) % 100 < 60 then a.link_status
                    else 'anonymous' end as identity_status,
               -- some new, anonymous visitors type an existing lead's email into a form
               case when a.existing and a.identified then l.email
                    when not a.existing and hash(a.vkey, 25) % 100 >= 85 then l.email
                    else 'anon' || a.vkey::varchar || '@mail.example' end as email,
               a.visit + 1 as visit
        from attrs as a
        join {_lead_table_1x} as l on l.lead_idx = a.lead_idx
        """,
    )


def add_hour(db: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """The one-hour batch: events received in (NOW, NOW + 1h]; the same rows at every scale."""
    _hour_visitor_table(db)
    _exec(
        db,
        f"""
        create or replace temp table syn_hour_specs as
        select vkey, 200 as s, visitor_id, bot, device, browser, os, country, company, tenant_id,
               tracking_id, identity_status, email,
               {_NOW_SQL} + to_seconds((60 + case when continuing then hash(vkey, 26) % 240
                                                  else hash(vkey, 26) % (45 * 60) end)::bigint) as start,
               (2 + hash(vkey, 27) % 6)::bigint as k,
               (10 + hash(vkey, 28) % 90)::bigint as step_s,
               visit
        from syn_hour_visitors
        """,
    )
    events = _events_from_specs(db, "syn_hour_specs", f"{_NOW_SQL} + interval 1 hour")
    return {"visitors": HOUR_VISITORS, "events": events}


HOUR_END = NOW + timedelta(hours=1)
