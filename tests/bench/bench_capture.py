"""/track, /go and /personalize next to the framework floor, as production serves them.

Each function runs in functions-framework's own server (gunicorn, one process of its own, as
deployed); the floor is the same server answering an empty handler. The load comes from
this process: CLIENTS closed-loop clients on keep-alive connections, a realistic mix of user
agents (tests/bench/capture_load.py), 5-event /track batches. Every target is measured in
ROUNDS interleaved rounds; rates are medians over rounds, ratios are to the floor of the
same round (medians), latencies pooled over all rounds.

/track runs twice over: with an in-memory sink in place of the warehouse (production writes
to BigQuery, over the network: what the function itself costs) and on local DuckDB files
holding 0, 1M and 10M events (generated in SQL, kept under bench-results/ for the next run
of the same schema), to show that an insert's cost does not grow with the table. Every
DuckDB server's file is counted afterwards: each 202 stored.

OIE_BENCH_CAPTURE_ROUNDS (default 5), OIE_BENCH_CAPTURE_REQUESTS per round (default 300),
OIE_BENCH_TRACK_SIZES (default "0,1000000,10000000").
"""

from __future__ import annotations

import hashlib
import os
import shutil
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from oie import wiring
from oie.adapters.duckdb_warehouse import DuckDBWarehouse
from oie.devstack.emulator import FirestoreEmulator, free_port
from oie.go.service import ClickRequest
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.bench.capture_load import Load, Request, agent_mix, closed_loop, summary, track_batch
from tests.bench.servers import function_server
from tests.conftest import make_settings

ORIGIN = "https://bench.example"
CLIENTS = 4
ROUNDS = int(os.environ.get("OIE_BENCH_CAPTURE_ROUNDS", "5"))
PER_ROUND = int(os.environ.get("OIE_BENCH_CAPTURE_REQUESTS", "300"))
WARMUP = 150
SIZES = [int(s) for s in os.environ.get("OIE_BENCH_TRACK_SIZES", "0,1000000,10000000").split(",") if s.strip()]
REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "bench" / "fixtures"
GENERATOR_VERSION = "1"
CAPTURE = FIXTURES / "capture_functions.py"
EMPTY = FIXTURES / "empty_function.py"


def _history(path: Path, count: int) -> float:
    """`path` holding `count` stored events: copied from bench-results/ when a run of this schema
    built it before, else generated (and kept there); the seconds generating took (0: copied)."""
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    for schema in sorted((REPO / "sql" / "schema").glob("*.sql")):
        digest.update(schema.read_bytes())
    cached = REPO / "bench-results" / f"track-events-{count}-{digest.hexdigest()[:10]}.duckdb"
    if cached.is_file():
        shutil.copyfile(cached, path)
        return 0.0
    took = _stored_events(path, count)
    cached.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, cached)
    return took


def _stored_events(path: Path, count: int) -> float:
    """Fill `path`'s events table with `count` rows in SQL (twenty events per visitor); seconds taken."""
    warehouse = DuckDBWarehouse(path, keep_open=3600)
    warehouse.migrate()
    start = time.perf_counter()
    if count:
        warehouse.sql(
            f"""
            insert into events (event_id, tenant_id, visitor_id, session_id, identity_status, event_type,
                                occurred_at, received_at, page_url, page_host, page_path, props, is_bot)
            select 'v' || lpad(to_hex(hash(i // 20)), 16, '0') || '.e' || lpad((i % 20)::varchar, 8, '0'),
                   'bench', 'v' || lpad(to_hex(hash(i // 20)), 16, '0'), 's' || (i // 5)::varchar, 'anonymous',
                   'pageview', timestamptz '2026-11-01 00:00:00+00' + to_seconds(i // 100),
                   timestamptz '2026-11-01 00:00:01+00' + to_seconds(i // 100),
                   'https://bench.example/p', 'bench.example', '/p', '{{}}'::json, false
            from range({count}) as t(i)
            """
        )
        warehouse.migrate()  # the unique index over what is there now
    took = time.perf_counter() - start
    warehouse.sql("checkpoint")
    warehouse.close()
    return took


def _count(path: Path) -> int:
    warehouse = DuckDBWarehouse(path, keep_open=0)
    try:
        return int(warehouse.sql("select count(*) as n from events")[0]["n"])
    finally:
        warehouse.close()


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="oie-bench-capture-") as raw_tmp, ExitStack() as stack:
        tmp = Path(raw_tmp)
        emulator = FirestoreEmulator(free_port())
        emulator.start()
        stack.callback(emulator.stop)
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        settings = make_settings(tmp)
        app = wiring.Container(settings)
        app.warehouse.migrate()
        create_tenant(
            app.tenants,
            {
                "tenant_id": "bench",
                "name": "Bench",
                "redirect_domains": ("bench.example",),
                "allowed_origins": (ORIGIN,),
                "default_landing_url": "https://bench.example/",
            },
            allow_local_secret=True,
        )
        leads = parse_leads(["email,first_name,company\n", "ada@bench.example,Ada,Engines\n"])
        link = app.importer.run("bench", "Bench", "https://bench.example/l", leads, "http://x").imported[0]
        location = app.go_service.click(ClickRequest(link.tracking_id, None, "GET", "x", "bench", "", "127.0.0.1"))
        token = parse_qs(urlsplit(location).query)["oie_t"][0]
        vid = token.split(".")[0]
        app.close()
        os.environ.pop("FIRESTORE_EMULATOR_HOST", None)

        built = {size: _history(tmp / f"events-{size}.duckdb", size) for size in SIZES}
        env = {
            "OIE_ENV": "test",
            "OIE_GCP_PROJECT": settings.gcp_project,
            "OIE_OUTBOX_DIR": str(tmp / "outbox"),
            "OIE_DEFAULT_LANDING_URL": "https://engine.example/welcome",
            "OIE_TRUSTED_PROXY_HOPS": "0",
            "FIRESTORE_EMULATOR_HOST": emulator.host,
        }
        sink = {**env, "OIE_BENCH_SINK": "1", "OIE_DUCKDB_PATH": str(tmp / "unused.duckdb")}
        servers = {
            "floor": stack.enter_context(function_server("empty", EMPTY, env)),
            "track": stack.enter_context(function_server("track", CAPTURE, sink)),
            "go": stack.enter_context(function_server("go", CAPTURE, sink)),
            "personalize": stack.enter_context(function_server("personalize", CAPTURE, sink)),
        }
        for size in SIZES:
            path = tmp / f"events-{size}.duckdb"
            server = function_server("track", CAPTURE, {**env, "OIE_DUCKDB_PATH": str(path)})
            servers[f"track_duckdb_{size}"] = stack.enter_context(server)

        total = WARMUP + ROUNDS * PER_ROUND
        agents = agent_mix(total, seed=14)
        now_ms = int(time.time() * 1000)
        base = {"Origin": ORIGIN, "Content-Type": "text/plain"}

        def track(prefix: str) -> Any:
            def make(n: int) -> Request:
                body = track_batch(vid, link.tracking_id, token, prefix, n, now_ms)
                return "POST", "/track", body, {**base, "User-Agent": agents[n]}, 202

            return make

        makers = {name: track(f"p{k}") for k, name in enumerate(servers) if name.startswith("track") or name == "floor"}
        makers["go"] = lambda n: ("GET", f"/go?i={link.tracking_id}", None, {"User-Agent": agents[n]}, 302)
        makers["personalize"] = lambda n: (
            "GET",
            f"/personalize?tenant=bench&vid={vid}&tok={token}",
            None,
            {"Origin": ORIGIN, "User-Agent": agents[n]},
            200,
        )
        makers["floor_get"] = lambda n: ("GET", "/go?i=x", None, {"User-Agent": agents[n]}, 202)
        servers["floor_get"] = servers["floor"]

        for name, server in servers.items():
            closed_loop(server, makers[name], 0, WARMUP, CLIENTS)
        loads: dict[str, list[Load]] = {name: [] for name in servers}
        for r in range(ROUNDS):
            for name, server in servers.items():
                loads[name].append(closed_loop(server, makers[name], WARMUP + r * PER_ROUND, PER_ROUND, CLIENTS))
        stack.close()  # the servers stop: each DuckDB file is free to count
        stored = {size: _count(tmp / f"events-{size}.duckdb") for size in SIZES}

    return _report(loads, built, stored, total)


def _report(
    loads: dict[str, list[Load]], built: dict[int, float], stored: dict[int, int], total: int
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, runs in loads.items():
        floor = loads["floor_get" if name in ("go", "personalize", "floor_get") else "floor"]
        pairs = list(zip(runs, floor, strict=True))
        ratio = statistics.median(run.rps / anchor.rps for run, anchor in pairs)
        cpu_ratio = statistics.median(run.cpu_ms / anchor.cpu_ms if anchor.cpu_ms else 0.0 for run, anchor in pairs)
        results[name] = {**summary(runs), "ratio_to_floor": round(ratio, 2), "cpu_ratio_to_floor": round(cpu_ratio, 2)}
    for size in SIZES:
        results[f"track_duckdb_{size}"].update(
            {"stored_before": size, "built_s": round(built[size], 1), "stored_after": stored[size]}
        )
        assert stored[size] == size + total * 5, (size, stored[size])  # every 202 was durable
    print(
        f"{CLIENTS} clients, keep-alive, {ROUNDS} interleaved rounds of {PER_ROUND} requests; "
        "rates are medians over rounds, x = ratio to the floor in the same round (GETs: to the floor's GETs)"
    )
    for name, r in results.items():
        extra = ""
        if "stored_before" in r:
            built = f"generated in {r['built_s']} s" if r["built_s"] else "copied from bench-results/"
            extra = f" ({r['stored_before']:,} events before, {built}; every 202 stored)"
        print(
            f"  {name:<22} {r['rps']:>7} req/s  x{r['ratio_to_floor']:<5} p50 {r['p50_ms']} ms, "
            f"p99 {r['p99_ms']} ms; server CPU {r['cpu_ms_per_request']} ms/request "
            f"(x{r['cpu_ratio_to_floor']}){extra}"
            + (f"; {r['unavailable']} answered 503, sent again" if r["unavailable"] else "")
        )
    if len(SIZES) > 1:
        rates = [results[f"track_duckdb_{s}"]["rps"] for s in SIZES]
        spread = round(max(rates) / min(rates), 2)
        results["track_duckdb_spread"] = spread
        print(f"  /track on DuckDB, fastest / slowest of {', '.join(f'{s:,}' for s in SIZES)} events: x{spread}")
    return results
