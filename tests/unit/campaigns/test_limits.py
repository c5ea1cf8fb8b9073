from datetime import UTC, date, datetime, timedelta

from oie.campaigns.limits import Counter, LimitsConfig, Rule, WarmupPool, over, rules_for, take
from oie.campaigns.models import SenderIdentity

NOW = datetime(2026, 3, 2, 17, 20, tzinfo=UTC)
SENDER = SenderIdentity(sender_id="sdr", from_email="sdr@acme.com", verification="verified", ip_pool="pool1")


def test_an_hourly_rule_counts_in_clock_hours_and_reopens_at_the_next_hour():
    rule = Rule("gmail", 2)
    assert rule.window(NOW) == (datetime(2026, 3, 2, 17, tzinfo=UTC), datetime(2026, 3, 2, 18, tzinfo=UTC))
    counter, retry = take(rule, None, NOW)
    counter, retry = take(rule, counter, NOW)
    assert retry is None and counter.used == 2
    _, retry = take(rule, counter, NOW)
    assert retry == datetime(2026, 3, 2, 18, tzinfo=UTC)


def test_a_new_window_is_a_new_counter_document():
    rule = Rule("acme-sender-sdr-h", 60)
    assert rule.doc_id(0, NOW) == "acme-sender-sdr-h-202603021700-s0"
    assert rule.doc_id(0, NOW + timedelta(hours=1)) == "acme-sender-sdr-h-202603021800-s0"


def test_a_daily_rule_defers_to_the_next_utc_day():
    rule = Rule("warmup", 50, period=timedelta(days=1))
    _, retry = take(rule, Counter(50, NOW), NOW)
    assert retry == datetime(2026, 3, 3, tzinfo=UTC)
    counter, retry = take(rule, Counter(49, NOW), NOW)
    assert retry is None and counter.used == 50
    assert rule.doc_id(1, NOW) == "warmup-202603020000-s1"


def test_shard_shares_add_up_to_the_cap_exactly():
    rule = Rule("acme-tenant", 803, shards=8)
    assert [rule.shard_capacity(s) for s in range(8)] == [101, 101, 101, 100, 100, 100, 100, 100]
    assert sum(rule.shard_capacity(s) for s in range(rule.shard_count())) == 803


def test_a_cap_smaller_than_its_shards_uses_one_shard_per_send():
    rule = Rule("small", 3, shards=8)
    assert rule.shard_count() == 3 and [rule.shard_capacity(s) for s in range(3)] == [1, 1, 1]


def test_an_increment_past_a_shards_share_is_over_until_the_window_ends():
    rule = Rule("d", 8, shards=4)  # two a shard
    assert over(rule, 1, 2, NOW) is None
    assert over(rule, 1, 3, NOW) == datetime(2026, 3, 2, 18, tzinfo=UTC)


def test_warm_up_caps_ramp_by_day_and_end_after_the_schedule():
    pool = WarmupPool(pool="pool1", started_on=date(2026, 3, 1), daily_caps=(50, 100))
    assert [pool.cap_on(date(2026, 3, d)) for d in (1, 2, 3)] == [50, 100, None]


def test_a_send_takes_from_tenant_sender_domain_and_warm_up_counters():
    pool = WarmupPool(pool="pool1", started_on=date(2026, 3, 2))
    rules = rules_for("acme", SENDER, "ada@GMAIL.com", LimitsConfig(), pool, NOW)
    assert [r.key.split("-")[1] for r in rules] == ["tenant", "sender", "sender", "domain", "warmup"]
    hour, day = timedelta(hours=1), timedelta(days=1)
    assert [r.period for r in rules] == [hour, hour, day, hour, day]
    domain = next(r for r in rules if "domain" in r.key)
    assert domain.capacity == 200 and domain.shard_count() == 1
    corp = rules_for("acme", SENDER, "bob@corp.example", LimitsConfig(), None, NOW)[3]
    assert corp.capacity == 500 and corp.shard_count() == 4
