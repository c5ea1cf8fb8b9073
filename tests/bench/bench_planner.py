"""Planning as Cloud Tasks: how fast a campaign's start queues its planning tasks (10,000
contacts into a recording queue and into the LocalTaskDispatcher), and planning throughput
through `campaign_plan` against the local Gemini server: contacts per second, the pipeline's
own time per contact (total minus the server's), tokens and estimated cost per 1,000 contacts."""

from __future__ import annotations

import http.client
import json
import logging
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from oie.adapters.local_tasks import LocalTaskDispatcher
from oie.campaigns.plan import parse_plan
from oie.links.csv_import import parse_leads
from oie.planner.tasks import PlanningTasks
from tests.bench.stack import bench_stack
from tests.bench.stats import summary_ms
from tests.factories import create_acme
from tests.fakes import FakeClock, RecordingQueue
from tests.unit.campaigns.factories import T0, make_contact, make_plan
from tests.unit.planner.review_fakes import SENDER, FakePlanner, MemoryConfigs, MemoryReviews, campaign_service

ENQUEUED = 10_000
PLANNED = 100
CLIENTS = (1, 2, 4)  # deliveries at a time; the tenant's budget and slots are shared by all of them
_HEADERS = {"Content-Type": "application/json"}
# The demo tenant's offer and brief, as the demo seeds them for the planner.
DEMO_OFFER = "Acme Analytics shows B2B sales teams which accounts are reading their site right now."
DEMO_BRIEF = "Short, plain emails from an SDR. One question per email. Mention what the lead read, never invent."


def _enqueue(queue: Any, contacts: list[Any], rerun: bool = True) -> dict[str, float]:
    clock = FakeClock(T0)
    tasks = PlanningTasks(
        campaigns=campaign_service(clock),
        planner=FakePlanner(),
        configs=MemoryConfigs(),
        reviews=MemoryReviews(),
        tasks=queue,
        clock=clock,
    )
    start = time.perf_counter()
    report = tasks.start("acme", "q1", make_plan(), contacts=contacts)
    first = time.perf_counter() - start
    assert report.enqueued == len(contacts)
    result = {"contacts": len(contacts), "seconds": round(first, 3), "tasks_per_s": round(len(contacts) / first)}
    if rerun:
        start = time.perf_counter()
        again = tasks.start("acme", "q1", make_plan(), contacts=contacts)
        result["rerun_seconds"] = round(time.perf_counter() - start, 3)
        assert again.already_enqueued == len(contacts)
    return result


def _into_tasks_emulator(contacts: list[Any]) -> dict[str, float]:
    """Through the real Cloud Tasks client over gRPC to gcloud-tasks-emulator, its queue paused.

    The emulator accepts a name twice, so there is no re-run figure.
    """
    import grpc
    from google.cloud import tasks_v2
    from google.cloud.tasks_v2.services.cloud_tasks.transports import CloudTasksGrpcTransport

    from oie import queues
    from oie.adapters.cloud_tasks import CloudTasksQueue
    from tests.integration.adapters import tasks_emulator

    with tempfile.TemporaryDirectory() as tmp, tasks_emulator.running(Path(tmp)) as host:
        channel = grpc.insecure_channel(host)
        client = tasks_v2.CloudTasksClient(transport=CloudTasksGrpcTransport(channel=channel))
        queue = client.create_queue(
            parent="projects/oie-bench/locations/europe-west1",
            queue=tasks_v2.Queue(name=client.queue_path("oie-bench", "europe-west1", queues.CAMPAIGN_PLANNING)),
        )
        client.pause_queue(name=queue.name)  # queued, never dispatched
        try:
            adapter = CloudTasksQueue("oie-bench", "europe-west1", "https://functions.example", "", client=client)
            return _enqueue(adapter, contacts, rerun=False)
        finally:
            channel.close()


def enqueue_rates() -> dict[str, dict[str, float]]:
    """Queueing 10,000 planning tasks: the pipeline's own cost, without a network in between."""
    contacts = [
        make_contact(lead_id=f"ld_{n:016d}", email=f"p{n}@lead{n % 97}.example", tracking_id=f"t{n:07d}")
        for n in range(ENQUEUED)
    ]
    dispatcher = LocalTaskDispatcher("http://127.0.0.1:9")  # never started: it only queues here
    results = {
        "recording_queue": _enqueue(RecordingQueue(), contacts),
        "local_dispatcher": _enqueue(dispatcher, contacts),
        "cloud_tasks_emulator": _into_tasks_emulator(contacts),
    }
    for name, r in results.items():
        rerun = f"; re-run (every name taken): {r['rerun_seconds']} s" if "rerun_seconds" in r else ""
        print(
            f"start of {r['contacts']} contacts into the {name.replace('_', ' ')}: {r['seconds']} s "
            f"({r['tasks_per_s']} tasks/s){rerun}"
        )
    return results


@dataclass
class _TimedModel:
    """The real GeminiModel, timed: how long the SDK call (HTTP and server) took, and its tokens."""

    inner: Any
    seconds: list[float] = field(default_factory=list)
    tokens: list[tuple[int, int]] = field(default_factory=list)

    def generate(self, request: Any) -> Any:
        start = time.perf_counter()
        generation = self.inner.generate(request)
        self.seconds.append(time.perf_counter() - start)
        self.tokens.append((generation.prompt_tokens, generation.output_tokens))
        return generation


def _timed_server_answers(seconds: list[float]) -> Callable[[], None]:
    """Time the local server's own work per request (its `answer`); returns the undo."""
    from oie.devstack import gemini_server

    original = gemini_server.answer

    def answer(*args: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args)
        finally:
            seconds.append(time.perf_counter() - start)

    gemini_server.answer = answer

    def undo() -> None:
        gemini_server.answer = original

    return undo


def _deliver(port: int, task: Any) -> tuple[float, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    connection.request(
        "POST", "/campaign_plan", body=json.dumps(task.payload), headers=_HEADERS | {"X-CloudTasks-TaskName": task.name}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    outcome = json.loads(body).get("outcome", "") if response.status == 200 else str(response.status)
    return time.perf_counter() - start, outcome


def _round(port: int, tasks: list[Any], clients: int) -> tuple[float, list[tuple[float, str]]]:
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(lambda t: _deliver(port, t), tasks))
    return time.perf_counter() - start, results


def planning_throughput(clients: int) -> dict[str, object]:
    """PLANNED contacts through campaign_plan (real SDK, local Gemini server), then each again."""
    from oie.devstack import gemini_server
    from oie.devstack.demo_campaign import demo_plan
    from oie.planner.config import PlannerConfig

    server_seconds: list[float] = []
    undo = _timed_server_answers(server_seconds)
    gemini = gemini_server.start()
    try:
        with bench_stack(tasks=RecordingQueue()) as (app, port):
            app.settings = app.settings.model_copy(update={"planner_base_url": gemini.base_url})
            model = _TimedModel(app.language_model)
            app.language_model = model
            create_acme(app.tenants)
            app.planner_configs.put("acme", PlannerConfig(offer=DEMO_OFFER, brief=DEMO_BRIEF, max_concurrent=clients))
            rows = ["email,first_name,company,title\n"]
            rows += [f"p{n}@lead{n % 40}.example,P{n},Co{n},Head of Growth\n" for n in range(PLANNED)]
            app.importer.run("acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://links.acme.com")
            app.campaign_senders.put("acme", SENDER)
            app.planning_tasks.start("acme", "q1", parse_plan(demo_plan("http://127.0.0.1:8080")))
            tasks = [t for t in app.tasks.tasks if t.queue == "campaign-planning"]
            wall, first = _round(port, tasks, clients)
            again_wall, again = _round(port, tasks, clients)
            records = app.warehouse.sql("select outcome, prompt_tokens, output_tokens, cost_usd from plan_generations")
    finally:
        gemini.stop()
        undo()
    per_contact = statistics.mean(r[0] for r in first)
    model_time = sum(model.seconds) / len(tasks)
    server_time = sum(server_seconds) / len(tasks)
    prompt = sum(r["prompt_tokens"] for r in records)
    output = sum(r["output_tokens"] for r in records)
    result = {
        "contacts": len(tasks),
        "clients": clients,
        "contacts_per_s": round(len(tasks) / wall, 1),
        "latency": summary_ms([r[0] for r in first]),
        "model_call_ms_per_contact": round(model_time * 1000, 1),
        "server_ms_per_contact": round(server_time * 1000, 2),
        "pipeline_overhead_ms_per_contact": round((per_contact - model_time) * 1000, 1),
        "outcomes": dict(Counter(o for _, o in first)),
        "generation_outcomes": dict(Counter(r["outcome"] for r in records)),
        "model_calls": len(model.seconds),
        "repeat_contacts_per_s": round(len(tasks) / again_wall, 1),
        "repeat_outcomes": dict(Counter(o for _, o in again)),
        "tokens_per_1000_contacts": {
            "prompt": round(prompt * 1000 / len(tasks)),
            "output": round(output * 1000 / len(tasks)),
        },
        "cost_usd_per_1000_contacts": round(sum(r["cost_usd"] for r in records) * 1000 / len(tasks), 4),
    }
    print(
        f"planning {len(tasks)} contacts through campaign_plan ({clients} client(s), local Gemini server): "
        f"{result['contacts_per_s']} contacts/s, p50 {result['latency']['p50_ms']} ms; per contact the SDK call "
        f"took {result['model_call_ms_per_contact']} ms (server {result['server_ms_per_contact']} ms), "
        f"the pipeline's own overhead {result['pipeline_overhead_ms_per_contact']} ms; outcomes {result['outcomes']}, "
        f"generations {result['generation_outcomes']}"
    )
    print(
        f"the same tasks delivered again: {result['repeat_contacts_per_s']} contacts/s, {result['repeat_outcomes']}, "
        f"model calls in all {result['model_calls']}"
    )
    print(
        f"demo prompt per 1,000 contacts: {result['tokens_per_1000_contacts']['prompt']} prompt + "
        f"{result['tokens_per_1000_contacts']['output']} output tokens, est. ${result['cost_usd_per_1000_contacts']}"
    )
    return result


def run() -> dict[str, object]:
    quiet = logging.getLogger("oie")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # a log line per task would bury the figures
    try:
        planning = {f"clients_{n}": planning_throughput(n) for n in CLIENTS}
    finally:
        quiet.setLevel(level)
    return {"enqueue": enqueue_rates(), "planning": planning}
