"""/go latency, warm cache, through the dev gateway over real HTTP (Firestore emulator + DuckDB)."""

from __future__ import annotations

import http.client
import time

from oie.go.service import ClickRequest
from oie.links.csv_import import parse_leads
from oie.tenants.service import create_tenant
from tests.bench.stack import bench_stack
from tests.bench.stats import summary_ms

REQUESTS = 3000
WARMUP = 200
AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def _timed_gets(port: int, paths: list[str], keep_alive: bool) -> list[float]:
    times = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in paths:
        if not keep_alive:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start = time.perf_counter()
        connection.request("GET", path, headers={"User-Agent": AGENT})
        response = connection.getresponse()
        response.read()
        times.append(time.perf_counter() - start)
        assert response.status == 302, response.status
        if not keep_alive:
            connection.close()
    return times


def run() -> dict[str, object]:
    with bench_stack() as (app, port):
        create_tenant(
            app.tenants,
            {
                "tenant_id": "bench",
                "name": "Bench",
                "redirect_domains": ("bench.example",),
                "default_landing_url": "https://bench.example/",
            },
            allow_local_secret=True,
        )
        rows = [f"p{n}@bench.example,P{n},,," for n in range(50)]
        leads = parse_leads(["email,first_name,last_name,company,title\n", *(r + "\n" for r in rows)])
        links = [
            i.tracking_id
            for i in app.importer.run("bench", "Bench", "https://bench.example/l", leads, "http://x").imported
        ]
        paths = [f"/go?i={links[n % len(links)]}" for n in range(REQUESTS)]
        _timed_gets(port, paths[:WARMUP], keep_alive=False)  # fills the link cache

        service_times = []
        for path in paths[:1000]:
            request = ClickRequest(path.split("=")[1], None, "GET", "x", AGENT, "", "127.0.0.1")
            start = time.perf_counter()
            app.go_service.click(request)
            service_times.append(time.perf_counter() - start)

        http_times = _timed_gets(port, paths, keep_alive=False)
        clicks = app.warehouse.sql("select count(*) as n from email_clicks")[0]["n"]
    result = {
        "http_gateway": summary_ms(http_times),
        "service_only": summary_ms(service_times),
        "clicks_recorded": clicks,
    }
    h, s = result["http_gateway"], result["service_only"]
    print(
        f"/go over HTTP (new connection each, {h['n']} requests, warm cache): "
        f"p50 {h['p50_ms']} ms, p90 {h['p90_ms']} ms, p99 {h['p99_ms']} ms"
    )
    print(f"/go service only (resolve + record in DuckDB, {s['n']} calls): p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms")
    print(f"clicks in email_clicks: {clicks}")
    return result
