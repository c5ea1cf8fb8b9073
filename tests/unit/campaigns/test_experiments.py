"""The variant statistics: the two-proportion z-test on textbook values and its properties, and the winner rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oie.campaigns.experiments import (
    VariantCounts,
    against_best_other,
    compare,
    decide,
    p_from_z,
    two_proportion_z,
)


@pytest.mark.parametrize(("z", "p"), [(1.644854, 0.10), (1.959964, 0.05), (2.575829, 0.01), (3.290527, 0.001)])
def test_p_values_match_the_normal_table(z, p):
    assert p_from_z(z) == pytest.approx(p, abs=1e-6)
    assert p_from_z(-z) == pytest.approx(p, abs=1e-6)


def test_a_worked_example_gives_the_textbook_z_and_p():
    # 250/1000 against 200/1000: pooled 0.225, SE sqrt(0.225 * 0.775 * (2/1000)) = 0.018675,
    # z = 0.05 / 0.018675 = 2.6774, two-sided p = 0.0074.
    z, p = two_proportion_z(250, 1000, 200, 1000)
    assert z == pytest.approx(2.6774, abs=1e-4)
    assert p == pytest.approx(0.00742, abs=1e-5)


def test_unequal_samples_use_the_pooled_standard_error():
    # 45/500 (9%) against 60/1000 (6%): pooled 105/1500 = 0.07, SE sqrt(0.07 * 0.93 * (1/500 + 1/1000)) = 0.013975,
    # z = 0.03 / 0.013975 = 2.1467, two-sided p = 0.0318.
    z, p = two_proportion_z(45, 500, 60, 1000)
    assert z == pytest.approx(2.1467, abs=1e-4)
    assert p == pytest.approx(0.0318, abs=1e-4)


@pytest.mark.parametrize("counts", [(0, 0, 5, 10), (0, 10, 0, 10), (10, 10, 20, 20)])
def test_no_sample_or_no_variance_is_no_evidence(counts):
    assert two_proportion_z(*counts) == (0.0, 1.0)


def test_conversions_beyond_the_contacts_sent_are_refused():
    with pytest.raises(ValueError, match="conversions"):
        two_proportion_z(11, 10, 1, 10)


samples = st.integers(min_value=1, max_value=5000)


@st.composite
def proportions(draw: st.DrawFn) -> tuple[int, int, int, int]:
    n1, n2 = draw(samples), draw(samples)
    return draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2


@given(proportions())
def test_the_p_value_is_symmetric_and_a_probability(counts):
    x1, n1, x2, n2 = counts
    z, p = two_proportion_z(x1, n1, x2, n2)
    z_swapped, p_swapped = two_proportion_z(x2, n2, x1, n1)
    assert 0.0 <= p <= 1.0
    assert p == pytest.approx(p_swapped, abs=1e-12)
    assert z == pytest.approx(-z_swapped, abs=1e-9)


@given(proportions(), st.integers(min_value=2, max_value=50), st.sampled_from([0.8, 0.9, 0.95, 0.99]))
def test_significance_only_grows_with_the_sample_at_the_same_rates(counts, factor, confidence):
    x1, n1, x2, n2 = counts
    small = compare(VariantCounts("a", n1, x1), VariantCounts("b", n2, x2), confidence, 1)
    large = compare(
        VariantCounts("a", n1 * factor, x1 * factor), VariantCounts("b", n2 * factor, x2 * factor), confidence, 1
    )
    assert large.rate == pytest.approx(small.rate)  # the same rates, a larger sample
    assert large.p_value <= small.p_value + 1e-12
    assert large.significant or not small.significant


def test_lift_is_relative_to_the_other_rate_and_unknown_against_zero():
    versus = compare(VariantCounts("b", 100, 15), VariantCounts("a", 100, 10), 0.95, 10)
    assert versus.lift == pytest.approx(0.5)
    assert versus.confidence == pytest.approx(1 - versus.p_value)
    assert compare(VariantCounts("b", 100, 5), VariantCounts("a", 100, 0), 0.95, 10).lift is None


def test_a_variant_below_the_minimum_is_never_significant():
    strong = (VariantCounts("a", 99, 60), VariantCounts("b", 1000, 100))
    assert compare(*strong, 0.95, 100).p_value < 1e-9
    assert not compare(*strong, 0.95, 100).significant
    assert compare(*strong, 0.95, 99).significant


def test_the_leader_wins_once_it_beats_the_runner_up():
    decision = decide([VariantCounts("a", 1000, 200), VariantCounts("b", 1000, 250)], 0.95, 100)
    assert (decision.leader, decision.winner) == ("b", "b")
    assert decision.comparison is not None and decision.comparison.against == "a"
    assert "b beats a" in decision.reason


def test_a_stricter_confidence_withholds_the_same_winner():
    variants = [VariantCounts("a", 1000, 200), VariantCounts("b", 1000, 232)]  # p = 0.082
    assert decide(variants, 0.9, 100).winner == "b"
    held = decide(variants, 0.95, 100)
    assert (held.leader, held.winner) == ("b", None)
    assert "not significant at 95%" in held.reason


def test_with_three_variants_the_leader_must_beat_the_best_other_not_only_the_worst():
    variants = [VariantCounts("a", 1000, 100), VariantCounts("b", 1000, 200), VariantCounts("c", 1000, 195)]
    decision = decide(variants, 0.95, 100)
    assert decision.leader == "b" and decision.winner is None
    assert decision.comparison is not None and decision.comparison.against == "c"
    figures = against_best_other(variants, 0.95, 100)
    assert figures["a"].against == "b" and figures["a"].significant  # a is clearly worse
    assert figures["c"].against == "b" and not figures["c"].significant


def test_no_winner_before_every_variant_has_enough_contacts():
    decision = decide([VariantCounts("a", 1000, 100), VariantCounts("b", 50, 40)], 0.95, 100)
    assert decision.winner is None and decision.reason == "below 100 contacts: b"


def test_a_single_variant_cannot_win():
    assert decide([VariantCounts("a", 1000, 900)], 0.95, 10).winner is None


def test_ties_go_to_the_larger_sample_then_the_id():
    decision = decide([VariantCounts("b", 200, 20), VariantCounts("a", 200, 20), VariantCounts("c", 300, 30)], 0.95, 10)
    assert decision.leader == "c" and decision.comparison is not None and decision.comparison.against == "a"


def test_confidence_outside_zero_and_one_is_refused():
    with pytest.raises(ValueError, match="confidence"):
        compare(VariantCounts("a", 10, 1), VariantCounts("b", 10, 2), 1.0, 1)
