from datetime import UTC, date, datetime, timedelta

from oie.campaigns.limits import Counter, LimitsConfig, Rule, WarmupPool, rules_for, take
from oie.campaigns.models import SenderIdentity

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
SENDER = SenderIdentity(sender_id="sdr", from_email="sdr@acme.com", verification="verified", ip_pool="pool1")


def test_a_bucket_refills_over_its_period_and_says_when_the_next_token_comes():
    rule = Rule("gmail", "bucket", 200)  # 200 an hour: one every 18 s
    counter, retry = take(rule, Counter(0.5, NOW), NOW)
    assert retry == NOW + timedelta(seconds=9)
    counter, retry = take(rule, Counter(0.5, NOW), NOW + timedelta(seconds=9))
    assert retry is None and counter.tokens < 0.01


def test_a_fresh_bucket_starts_full():
    counter, retry = take(Rule("t", "bucket", 10), None, NOW)
    assert retry is None and counter.tokens == 9


def test_a_daily_cap_defers_to_the_next_utc_day():
    rule = Rule("warmup", "daily", 50)
    _, retry = take(rule, Counter(50, NOW), NOW)
    assert retry == datetime(2026, 3, 3, tzinfo=UTC)
    counter, retry = take(rule, Counter(49, NOW), NOW)
    assert retry is None and counter.tokens == 50


def test_warm_up_caps_ramp_by_day_and_end_after_the_schedule():
    pool = WarmupPool(pool="pool1", started_on=date(2026, 3, 1), daily_caps=(50, 100))
    assert [pool.cap_on(date(2026, 3, d)) for d in (1, 2, 3)] == [50, 100, None]


def test_a_send_takes_from_tenant_sender_domain_and_warm_up_counters():
    pool = WarmupPool(pool="pool1", started_on=date(2026, 3, 2))
    rules = rules_for("acme", SENDER, "ada@GMAIL.com", LimitsConfig(), pool, NOW)
    assert [r.key.split("-")[1] for r in rules] == ["tenant", "sender", "sender", "domain", "warmup"]
    domain = next(r for r in rules if "domain" in r.key)
    assert domain.capacity == 200
    assert rules_for("acme", SENDER, "bob@corp.example", LimitsConfig(), None, NOW)[3].capacity == 500


def test_shards_split_a_hot_bucket_and_daily_windows_carry_the_date():
    rule = Rule("acme-tenant", "bucket", 800, shards=8)
    assert rule.shard_capacity() == 100 and rule.doc_id(3, NOW) == "acme-tenant-s3"
    assert Rule("w", "daily", 50).doc_id(0, NOW) == "w-20260302-s0"
