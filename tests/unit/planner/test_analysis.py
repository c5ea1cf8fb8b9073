"""The deterministic lead analysis made from the evidence alone."""

from oie.planner.analysis import clip, summarize
from oie.planner.inputs import EmailEngagement, Evidence, PageViews
from tests.unit.planner.lm_factories import PRICING_READER


def test_a_summary_says_level_visits_what_was_read_and_email_engagement():
    assert summarize(PRICING_READER) == (
        "Hot (score 72); 3 sessions, last 2026-03-01; read pricing twice; read case studies once; "
        "emails: 2 sent, 2 opened, 1 clicked."
    )


def test_page_classes_count_when_the_profile_has_no_class_counts():
    evidence = Evidence(pages=(PageViews(path="/pricing", page_class="pricing", views=3), PageViews(path="/", views=9)))
    assert summarize(evidence) == "read pricing 3 times."


def test_a_lead_with_no_evidence_gets_a_plain_sentence():
    assert summarize(Evidence()) == "No site visits or email engagement recorded yet."


def test_emails_without_reaction_are_said_so():
    assert summarize(Evidence(email=EmailEngagement(sent=3))) == "emails: 3 sent, no reaction."


def test_clip_cuts_at_a_word_within_the_limit():
    clipped = clip("word " * 100, 30)
    assert len(clipped) <= 30 and clipped.endswith("word…")
