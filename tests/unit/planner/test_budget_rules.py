"""The budget's sharding rules (oie.planner.budget): caps that add up to the day's budget."""

from oie.planner.budget import Shard, fits_shard, free_slots, partition


def test_a_partition_shares_the_room_left_so_caps_add_up_to_the_budget_and_every_shard_fits():
    spent = [0, 500, 1200, 0]
    caps = partition(10_000, spent, reserve_on=2, tokens=300)
    assert caps is not None and sum(caps) == 10_000
    after = [0, 500, 1500, 0]
    assert all(s <= c for s, c in zip(after, caps, strict=True))
    assert (
        max(c - s for s, c in zip(after, caps, strict=True)) - min(c - s for s, c in zip(after, caps, strict=True)) <= 1
    )


def test_a_partition_takes_the_last_token_of_the_day_and_refuses_one_more():
    assert partition(1000, [400, 300], reserve_on=0, tokens=300) == [700, 300]
    assert partition(1000, [400, 300], reserve_on=1, tokens=301) is None


def test_a_lowered_budget_below_what_was_spent_refuses_even_a_small_reservation():
    assert partition(500, [400, 300], reserve_on=0, tokens=1) is None


def test_settlements_on_other_shards_count_in_the_day_total():
    # A reservation released on another shard leaves that shard negative; the day's total is right.
    caps = partition(1000, [900, -600], reserve_on=1, tokens=600)
    assert caps == [950, 50]


def test_a_shard_fits_what_its_cap_allows_and_defers_when_shared_for_another_budget():
    shard = Shard(used=300, reserved=200, cap=800, budget=10_000)
    assert fits_shard(shard, 300, 10_000) is True
    assert fits_shard(shard, 301, 10_000) is False
    assert fits_shard(shard, 1, 20_000) is None
    assert fits_shard(Shard(), 1, 10_000) is None


def test_free_slots_are_the_unheld_ones_below_the_tenants_cap():
    assert free_slots(4, {"slot-1", "slot-3", "slot-9"}) == ["slot-0", "slot-2"]
    assert free_slots(2, {"slot-0", "slot-1"}) == []
