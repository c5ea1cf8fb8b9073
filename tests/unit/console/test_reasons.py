"""The reason words: from stored components and counters, the heaviest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oie.console.reasons import ScoreFacts, reason_words

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
X = "\N{MULTIPLICATION SIGN}"


def facts(**fields: object) -> ScoreFacts:
    return ScoreFacts.model_validate({"last_activity_at": NOW - timedelta(hours=2), **fields})


def test_the_issue_example_reads_as_written():
    lead = facts(
        conversion_points=15.0,
        high_intent_points=24.0,
        frequency_points=8.0,
        forms_submitted=1,
        pricing_views=3,
        sessions=2,
        sessions_7d=2,
    )
    assert reason_words(lead, NOW) == f"pricing page 3{X}, form submitted, 2 sessions this week"


def test_phrases_follow_the_points_each_component_gave():
    lead = facts(conversion_points=20.0, high_intent_points=5.0, forms_submitted=2, case_study_views=1)
    assert reason_words(lead, NOW) == f"2 forms submitted, case studies 1{X}"


def test_a_tie_puts_conversions_before_pages():
    lead = facts(conversion_points=8.0, high_intent_points=8.0, videos_completed=1, pricing_views=1)
    assert reason_words(lead, NOW) == f"video watched to the end, pricing page 1{X}"


def test_components_without_points_say_nothing():
    lead = facts(frequency_points=0.0, sessions=1, sessions_7d=1, engagement_points=3.0, active_minutes=2.6)
    assert reason_words(lead, NOW) == "2 min on site"


def test_short_visits_count_pages_instead_of_minutes():
    assert reason_words(facts(engagement_points=1.5, pageviews=1, active_minutes=0.4), NOW) == "1 page viewed"


def test_this_week_is_said_only_while_the_last_visit_is_this_week():
    lead = facts(frequency_points=12.0, sessions=5, sessions_7d=3, last_activity_at=NOW - timedelta(days=9))
    assert reason_words(lead, NOW) == "3 sessions in the last week active"


def test_profiles_scored_before_the_weekly_count_fall_back_to_all_sessions():
    assert reason_words(facts(frequency_points=4.0, sessions=1, sessions_7d=None), NOW) == "1 session"


def test_at_most_four_phrases():
    lead = facts(
        conversion_points=20.0,
        high_intent_points=25.0,
        frequency_points=20.0,
        engagement_points=25.0,
        forms_submitted=1,
        videos_completed=1,
        pricing_views=2,
        case_study_views=2,
        product_views=2,
        sessions=5,
        sessions_7d=5,
        active_minutes=30.0,
    )
    assert reason_words(lead, NOW) == f"pricing page 2{X}, case studies 2{X}, product pages 2{X}, 30 min on site"


def test_a_lead_held_by_the_trust_rule_says_so():
    lead = facts(
        conversion_points=20.0,
        forms_submitted=1,
        level_cap_reason="id_only: no /go click or verified token; held at warm",
    )
    assert reason_words(lead, NOW) == (
        "form submitted; held at warm until a /go click or a verified visit proves who it is"
    )


def test_nothing_counted_yet():
    assert reason_words(facts(), NOW) == "no visit counted yet"


def test_extra_profile_columns_are_ignored():
    row = {"lead_id": "l1", "score": 80.0, "tenant_id": "t1", "pricing_views": 1, "high_intent_points": 8.0}
    assert reason_words(ScoreFacts.model_validate(row), NOW) == f"pricing page 1{X}"
