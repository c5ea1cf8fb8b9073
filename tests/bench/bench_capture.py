"""/track throughput and latency with 5-event batches, next to an empty handler on the same
server, and /personalize latency warm; all through the dev gateway over real HTTP."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import functions_framework

from oie.go.service import ClickRequest
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.bench.stack import bench_stack
from tests.bench.stats import summary_ms
from tests.fakes import FakeWarehouse

ORIGIN = "https://bench.example"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
REQUESTS = 2000
CLIENTS = 4
EMPTY = Path(__file__).resolve().parent / "fixtures" / "empty_function.py"


def _post(port: int, path: str, body: bytes) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    start = time.perf_counter()
    connection.request(
        "POST", path, body=body, headers={"Content-Type": "text/plain", "Origin": ORIGIN, "User-Agent": AGENT}
    )
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - start
    connection.close()
    assert response.status == 202, (path, response.status)
    return elapsed


def _load(port: int, path: str, bodies: list[bytes]) -> dict[str, float]:
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        times = list(pool.map(lambda b: _post(port, path, b), bodies))
    wall = time.perf_counter() - start
    return {**summary_ms(times), "rps": round(len(bodies) / wall, 1)}


def _batches(vid: str, tracking_id: str, token: str, count: int, offset: int) -> list[bytes]:
    now = int(time.time() * 1000)
    types = [
        ("pageview", {"title": "Pricing"}),
        ("scroll", {"depth": 50}),
        ("click", {"tag": "a", "href": "/x"}),
        ("active_time", {"ms": 5000}),
        ("scroll", {"depth": 75}),
    ]
    return [
        json.dumps(
            {
                "v": 1,
                "tenant": "bench",
                "vid": vid,
                "i": tracking_id,
                "tok": token,
                "sid": "sess0001",
                "ctx": {"vw": 1280, "vh": 720, "lang": "en", "tzo": 0, "visit": 1},
                "events": [
                    {"id": f"b{offset + n:06d}e{k}", "type": t, "ts": now, "url": "https://bench.example/p", "props": p}
                    for k, (t, p) in enumerate(types)
                ],
            }
        ).encode()
        for n in range(count)
    ]


def run() -> dict[str, object]:
    empty = functions_framework.create_app(target="empty", source=str(EMPTY))
    with bench_stack(extra_mounts={"/empty": empty}) as (app, port):
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
        location = app.go_service.click(ClickRequest(link.tracking_id, None, "GET", "x", AGENT, "", "127.0.0.1"))
        token = parse_qs(urlsplit(location).query)["oie_t"][0]
        vid = token.split(".")[0]

        _load(port, "/track", _batches(vid, link.tracking_id, token, 100, 900_000))  # warm caches
        track = _load(port, "/track", _batches(vid, link.tracking_id, token, REQUESTS, 0))
        empty_result = _load(port, "/empty", [b"{}"] * REQUESTS)
        stored = app.warehouse.sql("select count(*) as n from events")[0]["n"]
        # The same requests with the warehouse write swapped for an in-memory sink: what the
        # engine's own work (parse, validate, verify, enrich) costs without local DuckDB.
        sink = FakeWarehouse()
        app.track_service.warehouse = sink
        engine = _load(port, "/track", _batches(vid, link.tracking_id, token, REQUESTS, 500_000))
        assert len(sink.tables["events"]) == REQUESTS * 5

        personalize_times = []
        path = f"/personalize?tenant=bench&vid={vid}&tok={token}"
        for n in range(1100):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            start = time.perf_counter()
            connection.request("GET", path, headers={"Origin": ORIGIN})
            response = connection.getresponse()
            body = response.read()
            if n >= 100:  # the first 100 warm the caches
                personalize_times.append(time.perf_counter() - start)
            connection.close()
        assert json.loads(body) == {"firstName": "Ada", "company": "Engines"}
        service_times = []
        for _ in range(2000):
            start = time.perf_counter()
            app.personalize_service.profile("bench", vid, token)
            service_times.append(time.perf_counter() - start)
    personalize = summary_ms(personalize_times)
    personalize_service = summary_ms(service_times)
    print(
        f"/track, 5-event batches, {CLIENTS} clients: {track['rps']} req/s ({track['rps'] * 5:.0f} events/s), "
        f"p50 {track['p50_ms']} ms, p99 {track['p99_ms']} ms; events stored: {stored}"
    )
    print(
        f"empty handler, same server: {empty_result['rps']} req/s, p50 {empty_result['p50_ms']} ms, "
        f"p99 {empty_result['p99_ms']} ms -> /track with DuckDB runs at {track['rps'] / empty_result['rps']:.2f}x its rate"
    )
    print(
        f"/track with an in-memory warehouse: {engine['rps']} req/s, p50 {engine['p50_ms']} ms, "
        f"p99 {engine['p99_ms']} ms -> the engine's own work runs at {engine['rps'] / empty_result['rps']:.2f}x "
        "the empty handler's rate"
    )
    print(
        f"/personalize warm over HTTP: p50 {personalize['p50_ms']} ms, p99 {personalize['p99_ms']} ms; "
        f"service only: p50 {personalize_service['p50_ms']} ms, p99 {personalize_service['p99_ms']} ms"
    )
    return {
        "track": track,
        "track_engine_only": engine,
        "empty": empty_result,
        "events_stored": stored,
        "personalize_http": personalize,
        "personalize_service": personalize_service,
    }
