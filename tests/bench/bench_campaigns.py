"""Campaign steps per second through the local stack: each due step delivered over HTTP to
campaign_step (Firestore transaction, limits, suppression check, outbox send), then every
step delivered again (the idempotent path a retried Cloud Task takes)."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.links.csv_import import parse_leads
from tests.bench.stack import bench_stack
from tests.bench.stats import summary_ms
from tests.factories import create_acme
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan

CONTACTS = 120
CLIENTS = 2
SENDERS = 4  # mailboxes: one mailbox is one rate bucket, about one write a second in Firestore


def _deliver(port: int, task) -> tuple[float, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start = time.perf_counter()
    connection.request(
        "POST",
        "/campaign_step",
        body=json.dumps(task.payload),
        headers={"Content-Type": "application/json", "X-CloudTasks-TaskName": task.name or ""},
    )
    response = connection.getresponse()
    body = response.read()
    # A 503 (a contended rate bucket, Cloud Tasks would retry) has no outcome: count its status.
    outcome = json.loads(body).get("outcome", str(response.status)) if response.status == 200 else str(response.status)
    connection.close()
    return time.perf_counter() - start, outcome


def _round(port: int, tasks: list) -> dict[str, object]:
    start = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(lambda t: _deliver(port, t), tasks))
    wall = time.perf_counter() - start
    outcomes: dict[str, int] = {}
    for _, outcome in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {**summary_ms([r[0] for r in results]), "steps_per_s": round(len(tasks) / wall, 1), "outcomes": outcomes}


def run() -> dict[str, object]:
    with bench_stack(tasks=RecordingQueue()) as (app, port):
        create_acme(app.tenants)
        rows = ["email,first_name,company\n", *(f"p{n}@lead{n % 40}.example,P{n},Co{n}\n" for n in range(CONTACTS))]
        app.importer.run("acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://links.acme.com")
        for n in range(SENDERS):
            app.campaign_senders.put(
                "acme",
                SenderIdentity(
                    sender_id=f"sdr{n}", from_email=f"sdr{n}@acme.com", from_name=f"SDR {n}", verification="verified"
                ),
            )
        app.campaign_service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
        first_steps = list(app.tasks.tasks)
        sends = _round(port, first_steps)
        retries = _round(port, first_steps)
        sent = len(list(app.settings.outbox_dir.glob("*.eml")))
    print(
        f"campaign steps that send ({CONTACTS}, {CLIENTS} clients): {sends['steps_per_s']} steps/s, "
        f"p50 {sends['p50_ms']} ms, p99 {sends['p99_ms']} ms, outcomes {sends['outcomes']}"
    )
    print(
        f"the same steps delivered again: {retries['steps_per_s']} steps/s, p50 {retries['p50_ms']} ms, "
        f"outcomes {retries['outcomes']}; emails in the outbox: {sent}"
    )
    return {"sends": sends, "retries": retries, "emails": sent}
