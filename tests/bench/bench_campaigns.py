"""Campaign steps per second through the local stack: each due step delivered over HTTP to
campaign_step (Firestore transaction, limits, suppression check, outbox send), then every
step delivered again (the idempotent path a retried Cloud Task takes), then Firestore round
trips per send step, counted by a wrapper around the client (tests/bench/round_trips.py)
over a few send steps delivered one at a time."""

from __future__ import annotations

import http.client
import json
import time
from concurrent.futures import ThreadPoolExecutor

from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.links.csv_import import parse_leads
from tests.bench.round_trips import RoundTrips
from tests.bench.stack import bench_stack
from tests.bench.stats import summary_ms
from tests.factories import create_acme
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan

CONTACTS = 120
CLIENTS = 2
SENDERS = 4  # mailboxes: one mailbox is one rate bucket, about one write a second in Firestore
COUNTED = 10  # send steps delivered one at a time with their round trips counted


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


def _round_trips(app, port: int, planner: TemplatePlanner) -> dict[str, object]:
    """Round trips per send step: a fresh mailbox (its limits far off), steps one at a time."""
    app.campaign_senders.put(
        "acme",
        SenderIdentity(
            sender_id="counted", from_email="counted@acme.com", verification="verified", hourly_limit=10_000
        ),
    )
    contacts = list(app.campaign_service.contacts.contacts("acme", "q1"))[:COUNTED]
    before = len(app.tasks.tasks)
    app.campaign_service.start_campaign("acme", "q2", planner, contacts=contacts, sender_ids=["counted"])
    counter = RoundTrips(app.firestore)
    per_step, outcomes, rpcs = [], {}, {}
    for task in app.tasks.tasks[before:]:
        counter.reset()
        _, outcome = _deliver(port, task)
        seen = counter.reset()
        per_step.append(sum(seen.values()))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for name, n in seen.items():
            rpcs[name] = rpcs.get(name, 0) + n
    steps = max(len(per_step), 1)
    return {
        "per_send_step": round(sum(per_step) / steps, 1),
        "by_rpc": {name: round(n / steps, 1) for name, n in sorted(rpcs.items())},
        "outcomes": outcomes,
    }


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
        planner = TemplatePlanner(make_plan())
        app.campaign_service.start_campaign("acme", "q1", planner)
        first_steps = list(app.tasks.tasks)
        sends = _round(port, first_steps)
        retries = _round(port, first_steps)
        sent = len(list(app.settings.outbox_dir.glob("*.eml")))
        trips = _round_trips(app, port, planner)
    print(
        f"campaign steps that send ({CONTACTS}, {CLIENTS} clients): {sends['steps_per_s']} steps/s, "
        f"p50 {sends['p50_ms']} ms, p99 {sends['p99_ms']} ms, outcomes {sends['outcomes']}"
    )
    print(
        f"the same steps delivered again: {retries['steps_per_s']} steps/s, p50 {retries['p50_ms']} ms, "
        f"outcomes {retries['outcomes']}; emails in the outbox: {sent}"
    )
    print(
        f"Firestore round trips per send step ({COUNTED} steps one at a time): {trips['per_send_step']} "
        f"({trips['by_rpc']}), outcomes {trips['outcomes']}"
    )
    return {"sends": sends, "retries": retries, "emails": sent, "round_trips": trips}
