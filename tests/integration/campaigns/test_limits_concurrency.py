"""Sending limits under concurrency, on the Firestore emulator: never over a cap, every refusal a later time."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from oie.campaigns.limits import Rule
from oie.campaigns.limits_firestore import FirestoreRateLimiter
from oie.campaigns.models import SenderIdentity
from oie.campaigns.planner import TemplatePlanner
from oie.campaigns.service import StepPayload
from oie.errors import BackendUnavailable
from oie.links.csv_import import parse_leads
from tests.bench.round_trips import RoundTrips
from tests.factories import create_acme, csv_text
from tests.fakes import RecordingQueue
from tests.unit.campaigns.factories import make_plan

pytestmark = pytest.mark.firestore
NOW = datetime(2026, 3, 2, 17, 20, tzinfo=UTC)
THREADS = 12


def acquire(limiter, rules):
    """One acquire as a step makes it: an outage (the emulator's lock timeout under load) is retried,
    as Cloud Tasks retries the step."""
    for _ in range(5):
        try:
            return limiter.acquire(rules, NOW)
        except BackendUnavailable:
            continue
    raise AssertionError("the limiter never answered")


def burst(limiter, rules, attempts):
    """`attempts` acquires from THREADS threads at once: the answers, in no particular order."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda _: acquire(limiter, rules), range(attempts)))


def used(app, rule):
    """What the rule's counter documents hold now, summed over its shards."""
    docs = app.firestore.collection("rate_buckets")
    snaps = [docs.document(rule.doc_id(s, NOW)).get() for s in range(rule.shard_count())]
    return sum(int((snap.to_dict() or {}).get("used", 0)) for snap in snaps)


def drain(app, rules):
    """Take one at a time until refused: how many more sends the window's counters still held.

    A new limiter, as another instance would be: it knows no full window but the counters'."""
    limiter, taken = FirestoreRateLimiter(app.firestore), 0
    while acquire(limiter, rules) is None:
        taken += 1
    return taken


def test_many_concurrent_sends_never_take_more_than_a_cap_and_every_refusal_says_when(app):
    limiter = FirestoreRateLimiter(app.firestore)
    sender = Rule("conc-sender", 17)
    rules = [Rule("conc-tenant", 1_000, shards=8), sender, Rule("conc-domain", 40, shards=4)]
    answers = burst(limiter, rules, 60)
    granted = answers.count(None)
    assert 0 < granted <= 17
    refusals = [a for a in answers if a is not None]
    assert all(until == datetime(2026, 3, 2, 18, tzinfo=UTC) and key for until, key in refusals)
    # Every refused send gave back what it took: the counters hold the granted sends, no more.
    assert [used(app, r) for r in rules] == [granted] * 3
    # And nothing is lost: what the burst left is still there to take, to the cap exactly.
    assert granted + drain(app, rules) == 17


def test_a_hot_sharded_rule_alone_is_never_over_sent(app):
    limiter = FirestoreRateLimiter(app.firestore)
    hot = Rule("conc-hot", 30, shards=3)
    granted = burst(limiter, [hot], 80).count(None)
    assert granted <= 30 and used(app, hot) == granted
    assert granted + drain(app, [hot]) == 30


def test_a_window_seen_full_defers_later_sends_without_a_round_trip(app):
    limiter, mailbox = FirestoreRateLimiter(app.firestore), Rule("memo-mailbox", 1)
    assert acquire(limiter, [mailbox]) is None and acquire(limiter, [mailbox]) is not None
    trips = RoundTrips(app.firestore)
    assert acquire(limiter, [mailbox]) == (datetime(2026, 3, 2, 18, tzinfo=UTC), "memo-mailbox")
    assert trips.total() == 0 and used(app, mailbox) == 1


def test_a_send_refused_by_one_rule_takes_from_none(app):
    limiter = FirestoreRateLimiter(app.firestore)
    roomy, tight = Rule("aon-roomy", 1_000), Rule("aon-tight", 5)
    answers = burst(limiter, [roomy, tight], 30)
    assert answers.count(None) == 5 and used(app, roomy) == 5 and used(app, tight) == 5
    assert {key for _, key in filter(None, answers)} == {"aon-tight"}


def test_concurrent_send_steps_send_exactly_a_mailboxs_hourly_limit_and_defer_the_rest(app):
    app.tasks = RecordingQueue()
    create_acme(app.tenants)
    rows = csv_text(*(f"p{n}@lead{n % 4}.example,P{n},,Co{n}," for n in range(24)))
    app.importer.run("acme", "Q1", "https://www.acme.com/demo", parse_leads(rows), "https://links.acme.com")
    sender = SenderIdentity(sender_id="sdr", from_email="sam@acme.com", verification="verified", hourly_limit=5)
    app.campaign_senders.put("acme", sender)
    service = app.campaign_service
    service.start_campaign("acme", "q1", TemplatePlanner(make_plan()))
    steps = [StepPayload.model_validate(t.payload) for t in list(app.tasks.tasks)]

    def run(step):
        for _ in range(10):
            try:
                return service.run_step(step)
            except BackendUnavailable:  # StepNotReady or an outage: Cloud Tasks delivers it again
                continue
        raise AssertionError(f"step {step.key} never ran")

    with ThreadPoolExecutor(THREADS) as pool:
        outcomes = list(pool.map(run, steps))
    # Exactly the limit: never more (no over-send), and no fewer (every over-take was given back).
    assert len(steps) == 24 and outcomes.count("sent") == 5
    assert outcomes.count("sent") + outcomes.count("deferred") == 24
    assert len(list(app.settings.outbox_dir.glob("*.eml"))) == outcomes.count("sent")
    # Defer, never drop: every contact not sent to waits on a later step, after this hour.
    states = service.states.in_campaign("acme", "q1", 100)
    waiting = [s for s in states if s.pending is not None and s.pending.reason.startswith("limit ")]
    assert len(waiting) == outcomes.count("deferred")
    next_hour = app.clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    assert all(
        s.pending.due_at >= next_hour and s.pending.reason.startswith("limit acme-sender-sdr-h") for s in waiting
    )
