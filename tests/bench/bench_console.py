"""The console at scale: the hot-leads list and one lead's timeline for a tenant with
100,000 leads and 10M events, over HTTP through the dev gateway, warm.

The warehouse is generated directly in DuckDB (SQL over range() and hash(), see
synthetic.py): events, and the read models the jobs would have written from them
(sessions, visitor_leads, lead_profiles, lead_score_history, lead_level_changes,
message_events). It is cached under bench-results/ by the schema's hash, so reruns start
in seconds. Firestore holds the tenant, a member key and the documents of the leads the
measured pages show (the pages read lead documents by id, one batch per page).

The anchor is the same request for a tenant with no leads, in the same run: what the
gateway, the key check and Firestore cost before any warehouse row is read.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import duckdb
from werkzeug.serving import make_server

from oie import wiring
from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.console.models import HotLeadsQuery
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.devstack.gateway import build_gateway
from oie.outcomes.auth import create_key
from oie.tenants.service import create_tenant
from tests.bench import synthetic
from tests.bench.stats import percentile, summary_ms
from tests.conftest import make_settings
from tests.fakes import FakeClock

REPO = Path(__file__).resolve().parents[2]
TENANT, EMPTY = "bench", "empty"
LEADS = 100_000
VISITORS = 640_000  # ~15.7 events each: ~10M events
CAMPAIGNS = ("q1-outbound", "q1-followup", "q2-enterprise")
NOW = synthetic.NOW
WARMUP, REPEATS = 5, 40
GENERATOR_VERSION = "1"
NOW_SQL = f"timestamptz '{NOW.strftime('%Y-%m-%d %H:%M:%S')}+00'"


def _cache_path() -> Path:
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    for path in sorted((REPO / "sql" / "schema").glob("*.sql")):
        digest.update(path.read_bytes())
    return REPO / "bench-results" / f"console-100k-10M-{digest.hexdigest()[:10]}.duckdb"


def _generate(db: duckdb.DuckDBPyConnection) -> None:
    """Leads, ~10M events and the read models, all for tenant `bench`, in SQL."""
    db.execute(
        f"""
        create or replace temp table syn_leads as
        select l as lead_idx, '{TENANT}' as tenant_id,
               'ld_' || lpad(l::varchar, 16, '0') as lead_id,
               'tk' || lpad(l::varchar, 10, '0') as tracking_id,
               'lead' || l::varchar || '@corp' || (l % 997)::varchar || '.example' as email,
               {list(CAMPAIGNS)}[1 + (hash(l, 30) % 3)::int] as campaign_id
        from range({LEADS}) as t(l)
        """
    )
    db.execute(
        f"""
        insert into identity_map by name
        select tenant_id, tracking_id, lead_id, campaign_id, sha256(email) as email_sha256,
               {NOW_SQL} - interval 100 day + to_seconds((hash(lead_idx, 20) % 864000)::bigint) as created_at
        from syn_leads order by tenant_id, tracking_id
        """
    )
    # Visitors: 70% carry a lead's tracking id (a lead has ~4.5 identified visitors), the rest anonymous.
    db.execute(
        f"""
        create or replace temp table syn_specs as
        with visitors as (
          select vkey, 'v' || lpad(vkey::varchar, 12, '0') as visitor_id, hash(vkey, 3) % 100 < 70 as identified,
                 hash(vkey, 9) % 100 < 2 as bot, (hash(vkey, 2) % {LEADS})::bigint as lead_idx,
                 (1 + hash(vkey, 4) % 6)::bigint as n_sessions
          from range({VISITORS}) as t(vkey)
        ),
        numbered as (select v.*, unnest(range(v.n_sessions)) as s from visitors as v)
        select n.vkey, n.s, n.visitor_id, n.bot, 'desktop' as device, 'Chrome' as browser, 'macOS' as os,
               'US' as country, null::varchar as company, l.tenant_id,
               case when n.identified then l.tracking_id end as tracking_id,
               case when n.identified then 'verified' else 'anonymous' end as identity_status,
               case when n.identified then l.lead_id end as lead_id,
               l.email,
               {NOW_SQL} - to_seconds((hash(n.vkey, n.s, 5) % ({synthetic.HISTORY_DAYS} * 86400))::bigint) as start,
               (2 + hash(n.vkey, n.s, 23) % 6)::bigint as k,
               (10 + hash(n.vkey, n.s, 24) % 90)::bigint as step_s,
               n.s + 1 as visit
        from numbered as n join syn_leads as l on l.lead_idx = n.lead_idx
        """
    )
    synthetic._events_from_specs(db, "syn_specs", f"{NOW_SQL} + interval 1 hour")
    db.execute(
        """
        insert into sessions by name
        select tenant_id, visitor_id || '-' || epoch_ms(start)::varchar as session_id, visitor_id, lead_id,
               start as session_start, start + to_seconds(((k - 1) * step_s)::bigint) as session_end,
               (k - 1) * step_s as duration_s, (k - 1) * step_s // 2 as active_s, k as event_count,
               1 + k // 3 as pageviews, k // 4 as clicks, [25, 50, 75, 100][1 + (hash(vkey, s, 40) % 4)::int]
                 as max_scroll, 1 + hash(vkey, s, 41) % 4 as scroll_milestones,
               (hash(vkey, s, 42) % 20 = 0)::int as forms_started, (hash(vkey, s, 43) % 40 = 0)::int
                 as forms_submitted, (hash(vkey, s, 44) % 10 = 0)::int as videos_played,
               (hash(vkey, s, 45) % 20 = 0)::int as videos_completed, hash(vkey, s, 46) % 3 as pricing_views,
               hash(vkey, s, 47) % 2 as case_study_views, hash(vkey, s, 48) % 3 as product_views,
               '/' as entry_page, '/pricing' as exit_page, device as device_type, browser, os, country,
               company as company_name, visit > 1 as is_return_visit, start as updated_at,
               case when lead_id is not null then 'verified' end as evidence
        from syn_specs where not bot
        order by tenant_id, lead_id, visitor_id
        """
    )
    db.execute(
        """
        insert into visitor_leads by name
        select tenant_id, visitor_id, any_value(lead_id) as lead_id, 'tracking_id' as source,
               min(start) as first_seen_at
        from syn_specs where lead_id is not null group by tenant_id, visitor_id
        order by tenant_id, visitor_id
        """
    )
    # Levels: 0.5% burning, 2.5% hot, 12% warm, the rest cold; the score matches the level.
    db.execute(
        """
        insert into lead_profiles by name
        with agg as (
          select tenant_id, lead_id, count(*) as sessions, sum(pageviews) as pageviews,
                 sum(active_s) / 60.0 as active_minutes, sum(scroll_milestones) as scroll_milestones,
                 sum(pricing_views) as pricing_views, sum(case_study_views) as case_study_views,
                 sum(product_views) as product_views, sum(forms_submitted) as forms_submitted,
                 sum(videos_completed) as videos_completed, min(session_start) as first_seen_at,
                 max(session_end) as last_activity_at
          from sessions where lead_id is not null group by tenant_id, lead_id
        ),
        scored as (
          select *, hash(lead_id, 50) % 1000 as r,
                 case when hash(lead_id, 50) % 1000 < 5 then 'burning' when hash(lead_id, 50) % 1000 < 30 then 'hot'
                      when hash(lead_id, 50) % 1000 < 150 then 'warm' else 'cold' end as level
          from agg
        )
        select tenant_id, lead_id, sessions, pageviews, active_minutes, scroll_milestones, pricing_views,
               case_study_views, product_views, forms_submitted, videos_completed, first_seen_at,
               last_activity_at,
               10.0 as recency_points, 10.0 as frequency_points, 10.0 as engagement_points,
               case level when 'burning' then 40.0 when 'hot' then 25.0 when 'warm' then 10.0 else 0.0 end
                 as high_intent_points,
               case level when 'burning' then 20.0 else 0.0 end as conversion_points,
               case level when 'burning' then 90.0 when 'hot' then 70.0 when 'warm' then 45.0 else 15.0 end
                 + (r % 10) as score,
               level, case when level != 'cold' then 'cold' end as previous_level,
               last_activity_at as level_changed_at, last_activity_at as scored_at,
               'verified' as evidence_level, sessions as verified_sessions, 0 as corroborated_sessions,
               0 as id_only_sessions, level as uncapped_level, null as level_cap_reason,
               least(sessions, 1 + hash(lead_id, 51) % 4) as sessions_7d
        from scored
        order by tenant_id, lead_id
        """
    )
    db.execute(
        f"""
        insert into lead_score_history by name
        select p.tenant_id, p.lead_id, (({NOW_SQL})::date - d::int) as day, p.score - d as score, p.level,
               p.recency_points, p.frequency_points, p.engagement_points, p.high_intent_points,
               p.conversion_points, p.evidence_level, {NOW_SQL} - to_days(d::int) as scored_at
        from lead_profiles as p, range(35) as t(d)
        where p.level != 'cold' or hash(p.lead_id, d) % 7 = 0
        order by p.tenant_id, p.lead_id
        """
    )
    db.execute(
        """
        insert into lead_level_changes by name
        select tenant_id || ':' || lead_id || ':' || level as change_id, tenant_id, lead_id, previous_level as
               from_level, level as to_level, score, level_changed_at as changed_at, evidence_level
        from lead_profiles where level != 'cold' order by tenant_id
        """
    )
    # Each lead's outbound email: sent, delivered, two opens (one a machine's), a click.
    db.execute(
        f"""
        insert into message_events by name
        with kinds as (select * from (values (0, 'processed'), (1, 'delivered'), (2, 'open'), (3, 'open'),
                                             (4, 'click')) as k(n, event_type))
        select l.lead_id || '-' || k.n::varchar as row_id, l.lead_id || '-' || k.n::varchar as dedup_key,
               l.tenant_id, 'sendgrid' as source, {NOW_SQL} - interval 20 day + to_minutes(k.n * 30) as received_at,
               {NOW_SQL} - interval 20 day + to_minutes(k.n * 30) as occurred_at, k.event_type,
               true as is_known_type, l.campaign_id || '_' || l.lead_id || '_email' as contact_campaign_id,
               l.campaign_id, 'intro' as node_id, 'm-' || l.lead_id as oie_message_id,
               k.n = 2 as is_machine_open, false as is_scanner_click, false as is_duplicate
        from syn_leads as l, kinds as k
        order by l.tenant_id, contact_campaign_id
        """
    )
    db.execute("checkpoint")


def _warehouse() -> tuple[Path, dict[str, Any]]:
    path = _cache_path()
    if path.is_file():
        return path, {"generated_s": None, "cached": str(path.relative_to(REPO))}
    path.parent.mkdir(exist_ok=True)
    for old in path.parent.glob("console-100k-10M-*.duckdb"):
        old.unlink()
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    warehouse = DuckDBWarehouse(building)
    warehouse.migrate()
    start = time.perf_counter()
    with warehouse.connect() as db:
        _generate(db)
    warehouse.close()
    building.rename(path)
    return path, {"generated_s": round(time.perf_counter() - start, 1), "cached": str(path.relative_to(REPO))}


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as db:
        tables = ("identity_map", "events", "sessions", "lead_profiles", "lead_score_history", "message_events")
        return {t: int(db.execute(f"select count(*) from {t}").fetchone()[0]) for t in tables}  # type: ignore[index]


def _top_leads(path: Path, n: int) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as db:
        rows = db.execute(
            "select lead_id from lead_profiles where tenant_id = ? order by score desc, lead_id limit ?", [TENANT, n]
        ).fetchall()
    return [r[0] for r in rows]


def _busiest_lead(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as db:
        row = db.execute(
            "select lead_id from lead_profiles where tenant_id = ? order by sessions desc, lead_id limit 1", [TENANT]
        ).fetchone()
    return str(row[0]) if row else ""


@contextmanager
def _stack(warehouse_file: Path) -> Iterator[tuple[wiring.Container, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "warehouse.duckdb"
        shutil.copyfile(warehouse_file, copy)  # the cache stays as generated
        emulator = FirestoreEmulator(free_port())
        emulator.start()
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        app = wiring.Container(make_settings(Path(tmp), duckdb_path=copy), clock=FakeClock(NOW))
        wiring.use(app)
        server = None
        try:
            port = free_port()
            server = make_server("127.0.0.1", port, build_gateway(), threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            yield app, port
        finally:
            if server is not None:
                server.shutdown()
                server.server_close()
            app.close()
            wiring.use(None)
            emulator.stop()
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)


def _seed_firestore(app: wiring.Container, lead_ids: list[str]) -> dict[str, str]:
    keys = {}
    for tenant in (TENANT, EMPTY):
        create_tenant(
            app.tenants,
            {
                "tenant_id": tenant,
                "name": tenant,
                "allowed_origins": ("https://www.bench.example",),
                "redirect_domains": ("bench.example",),
                "default_landing_url": "https://www.bench.example/",
            },
            allow_local_secret=True,
        )
        keys[tenant] = create_key(app.api_keys, tenant, [], "bench SDR", NOW, role="member")
    col = app.firestore.collection("tenants").document(TENANT).collection("leads")
    for start in range(0, len(lead_ids), 400):
        batch = app.firestore.batch()
        for lead_id in lead_ids[start : start + 400]:
            n = int(lead_id.removeprefix("ld_"))
            batch.set(
                col.document(lead_id),
                {
                    "lead_id": lead_id,
                    "email": f"lead{n}@corp{n % 997}.example",
                    "first_name": f"First{n}",
                    "last_name": f"Last{n}",
                    "company": f"Company {n % 5000}",
                    "attributes": {"assigned_partner": "sam"},
                },
            )
        batch.commit()
    return keys


def _measure(port: int, path: str, headers: dict[str, str]) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times: list[float] = []
    size = 0
    for n in range(WARMUP + REPEATS):
        start = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - start
        if response.status != 200:
            raise AssertionError(f"{path}: {response.status} {body[:300]!r}")
        if n >= WARMUP:
            times.append(elapsed)
        size = len(body)
    connection.close()
    figures = summary_ms(times)
    return {**figures, "p95_ms": round(percentile([t * 1000 for t in times], 95), 3), "bytes": size}


def run() -> dict[str, Any]:
    path, built = _warehouse()
    counts = _counts(path)
    top = _top_leads(path, 200)
    busiest = _busiest_lead(path)
    print(f"warehouse: {built} {counts}", flush=True)
    with _stack(path) as (app, port):
        keys = _seed_firestore(app, [*top, busiest])
        base = "/outcomes/t/{tenant}"
        cases = {
            "anchor_empty_hot_leads": (base.format(tenant=EMPTY) + "/hot-leads", keys[EMPTY]),
            "hot_leads": (base.format(tenant=TENANT) + "/hot-leads", keys[TENANT]),
            "hot_leads_hot_only": (base.format(tenant=TENANT) + "/hot-leads?level=hot,burning", keys[TENANT]),
            "hot_leads_campaign": (base.format(tenant=TENANT) + f"/hot-leads?campaign={CAMPAIGNS[1]}", keys[TENANT]),
            "timeline_top_lead": (base.format(tenant=TENANT) + f"/leads/{top[0]}/timeline", keys[TENANT]),
            "timeline_busiest_lead": (base.format(tenant=TENANT) + f"/leads/{busiest}/timeline", keys[TENANT]),
        }
        cookie = _login(port, TENANT, keys[TENANT])
        pages = {
            "page_hot_leads": f"{base.format(tenant=TENANT)}/admin/",
            "page_lead": f"{base.format(tenant=TENANT)}/admin/leads/{top[0]}",
        }
        results: dict[str, Any] = {"data": {**built, **counts}}
        for name, (url, key) in cases.items():
            results[name] = _measure(port, url, {"Authorization": f"Bearer {key}"})
            _print(name, results[name])
        for name, url in pages.items():
            results[name] = _measure(port, url, {"Cookie": cookie})
            _print(name, results[name])
        # Where the hot-leads time goes, in this process: the whole service call, its warehouse reads, Firestore.
        service = app.console_service
        query = HotLeadsQuery()
        parts = {
            "service_hot_leads": lambda: service.hot_leads(TENANT, query),
            "firestore_lead_docs_50": lambda: service.lead_docs.get_many(TENANT, top[:50]),
            "service_timeline": lambda: service.timeline(TENANT, top[0]),
        }
        for name, call in parts.items():
            results[name] = _timed(call)
            _print(name, results[name])
    return results


def _print(name: str, r: dict[str, Any]) -> None:
    size = f"({r['bytes']} bytes)" if "bytes" in r else ""
    print(f"{name:26s} p50 {r['p50_ms']:8.1f} ms  p95 {r['p95_ms']:8.1f} ms  {size}", flush=True)


def _timed(call: Any) -> dict[str, Any]:
    times = []
    for n in range(WARMUP + REPEATS):
        start = time.perf_counter()
        call()
        if n >= WARMUP:
            times.append(time.perf_counter() - start)
    return {**summary_ms(times), "p95_ms": round(percentile([t * 1000 for t in times], 95), 3)}


def _login(port: int, tenant: str, key: str) -> str:
    """A console session cookie, from the login form as a browser posts it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    body = urlencode({"key": key})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    connection.request("POST", f"/outcomes/t/{tenant}/admin/login", body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    cookie = response.getheader("Set-Cookie") or ""
    if response.status != 303 or not cookie:
        raise AssertionError(f"login: {response.status}")
    return cookie.split(";", 1)[0]
