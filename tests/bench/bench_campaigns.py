"""Campaign steps per second through the local stack, this design against the token-bucket design
before it (commit OLD_DESIGN, unpacked by `git archive`), alternating in one run, each on a
stack of its own in a fresh interpreter: each due step delivered over HTTP to campaign_step
(reads, limits, suppression, claim, outbox send), then every step delivered again (the
idempotent path a retried Cloud Task takes); then Firestore round trips per step, counted by a
wrapper around the client (tests/bench/round_trips.py) over steps delivered one at a time."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

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
TIGHT = 2  # the hourly limit of the mailbox whose deferred steps are counted
ROUNDS = 3  # rounds of each design, alternating
OLD_DESIGN = "ebbaacfaf45e6a38a0e4402c752d8c2403caba8a"  # the last commit with the token-bucket limiter
ROOT = Path(__file__).resolve().parents[2]


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


def _counted(port: int, tasks: list, counter: RoundTrips) -> dict[str, object]:
    """Deliver `tasks` one at a time: Firestore round trips per step, by outcome and by RPC."""
    trips: dict[str, list[int]] = {}
    rpcs: dict[str, int] = {}
    for task in tasks:
        counter.reset()
        _, outcome = _deliver(port, task)
        seen = counter.reset()
        trips.setdefault(outcome, []).append(sum(seen.values()))
        for name, n in seen.items():
            rpcs[name] = rpcs.get(name, 0) + n
    steps = max(sum(len(v) for v in trips.values()), 1)
    return {
        "per_step": {outcome: round(sum(v) / len(v), 1) for outcome, v in sorted(trips.items())},
        "steps": {outcome: len(v) for outcome, v in sorted(trips.items())},
        "by_rpc": {name: round(n / steps, 1) for name, n in sorted(rpcs.items())},
    }


def _round_trips(app, port: int, planner: TemplatePlanner) -> dict[str, object]:
    """Round trips per step, one at a time: sends from a fresh mailbox (its limits far off), the same
    steps delivered again, and sends from a mailbox of two an hour (two sent, the rest deferred)."""
    mailboxes = {"counted": 10_000, "tight": TIGHT}
    for sender_id, hourly in mailboxes.items():
        app.campaign_senders.put(
            "acme",
            SenderIdentity(
                sender_id=sender_id, from_email=f"{sender_id}@acme.com", verification="verified", hourly_limit=hourly
            ),
        )
    contacts = list(app.campaign_service.contacts.contacts("acme", "q1"))
    figures = {}
    counter = RoundTrips(app.firestore)
    for campaign, sender_id, some in (("q2", "counted", contacts[:COUNTED]), ("q3", "tight", contacts[-COUNTED:])):
        before = len(app.tasks.tasks)
        app.campaign_service.start_campaign("acme", campaign, planner, contacts=some, sender_ids=[sender_id])
        tasks = app.tasks.tasks[before : before + len(some)]
        figures[sender_id] = _counted(port, tasks, counter)
        if sender_id == "counted":
            figures["redelivered"] = _counted(port, tasks, counter)
    return figures


def measure() -> dict[str, object]:
    """One design's run on a stack of its own: sends, the same steps again, round trips."""
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
    return {"sends": sends, "retries": retries, "emails": sent, "round_trips": trips}


def _tree(commit: str) -> Path:
    """The repository at `commit`, unpacked once under bench-results/ (`git archive`: the checkout is untouched)."""
    tree = ROOT / "bench-results" / f"campaigns-design-{commit[:10]}"
    if not (tree / "functions").is_dir():
        tree.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


# Run in each design's own tree: its bench module's rounds, with the CPU they cost the Firestore
# emulator (every process the child started) and the child itself, per step: a figure the
# machine's load moves far less than a rate does.
CHILD = """
import json, logging, os
from pathlib import Path
logging.getLogger("werkzeug").setLevel(logging.WARNING)
from tests.bench import bench_campaigns as b

def descendants(pid):
    try:
        kids = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return kids + [d for k in kids for d in descendants(k)]

def cpu():
    started = 0
    for pid in descendants(os.getpid()):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        started += int(fields[11]) + int(fields[12])
    return started / os.sysconf("SC_CLK_TCK"), sum(os.times()[:2])

rounds = b._round

def measured(port, tasks):
    emulator, own = cpu()
    figures = rounds(port, tasks)
    emulator_after, own_after = cpu()
    figures["emulator_cpu_ms_per_step"] = round((emulator_after - emulator) * 1000 / len(tasks), 1)
    figures["bench_cpu_ms_per_step"] = round((own_after - own) * 1000 / len(tasks), 1)
    return figures

b._round = measured
print("BENCH-JSON " + json.dumps(getattr(b, "measure", b.run)(), default=str))
"""


def _child(tree: Path) -> dict[str, Any]:
    """One design's `measure` (the old tree's own `run`) in a fresh interpreter, with a stack of its own."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree / "functions"), str(tree)])}
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, env=env, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH-JSON ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the campaign bench of {tree} failed: {done.stderr[-2000:]}")
    return dict(json.loads(lines[-1].removeprefix("BENCH-JSON ")))


def _span(values: list[float]) -> str:
    return f"{min(values)}-{max(values)}" if len(values) > 1 else f"{values[0]}"


def run() -> dict[str, object]:
    """This design and the token-bucket design before it, alternating in one run; their ratios."""
    old = _tree(OLD_DESIGN)
    rounds = []
    for n in range(ROUNDS):
        new_figures, old_figures = _child(ROOT), _child(old)
        new_sends, old_sends = new_figures["sends"], old_figures["sends"]
        ratio = round(new_sends["steps_per_s"] / old_sends["steps_per_s"], 1)
        rounds.append({"new": new_figures, "old": old_figures, "ratio": ratio})
        print(
            f"round {n + 1}: {new_sends['steps_per_s']} send steps/s (p50 {new_sends['p50_ms']} ms, "
            f"p99 {new_sends['p99_ms']} ms, {new_sends['outcomes']}) against {old_sends['steps_per_s']} "
            f"(p50 {old_sends['p50_ms']} ms, p99 {old_sends['p99_ms']} ms, {old_sends['outcomes']}) = {ratio}x; "
            f"delivered again {new_figures['retries']['steps_per_s']} against {old_figures['retries']['steps_per_s']} "
            f"steps/s; emails {new_figures['emails']} / {old_figures['emails']}; emulator CPU a send step "
            f"{new_sends['emulator_cpu_ms_per_step']} / {old_sends['emulator_cpu_ms_per_step']} ms, this process's "
            f"{new_sends['bench_cpu_ms_per_step']} / {old_sends['bench_cpu_ms_per_step']} ms",
            flush=True,
        )
    trips = rounds[-1]["new"]["round_trips"]
    print(
        f"send steps ({CONTACTS} contacts, {SENDERS} mailboxes, {CLIENTS} clients), {ROUNDS} interleaved rounds: "
        f"{_span([r['new']['sends']['steps_per_s'] for r in rounds])} steps/s against "
        f"{_span([r['old']['sends']['steps_per_s'] for r in rounds])} for the token-bucket design "
        f"({_span([r['ratio'] for r in rounds])}x); delivered again "
        f"{_span([r['new']['retries']['steps_per_s'] for r in rounds])} against "
        f"{_span([r['old']['retries']['steps_per_s'] for r in rounds])} steps/s"
    )
    print(f"Firestore round trips per step, one at a time (last round): {json.dumps(trips)}")
    return {"rounds": rounds, "round_trips": trips}
