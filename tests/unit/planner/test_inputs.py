"""The planning input: the lead without its address, evidence from rows, the input hash."""

from datetime import UTC, datetime

from oie.links.models import LeadRecord
from oie.planner.inputs import evidence_from_rows, lead_facts
from oie.planner.prompt import PROMPT_VERSION
from tests.unit.planner.lm_factories import NEWCOMER, PRICING_READER, make_contact, make_input


def test_lead_facts_leave_out_the_address_and_values_that_look_like_one():
    record = LeadRecord(
        email="ada@x.example",
        first_name="Ada",
        company="Analytical Engines",
        attributes={"tier": "A", "assistant": "bob@x.example"},
    )
    facts = lead_facts(make_contact(), record)
    assert "@" not in facts.model_dump_json()
    assert facts.attributes == {"tier": "A"}


def test_lead_facts_fall_back_to_the_contact_when_there_is_no_lead_record():
    assert lead_facts(make_contact(title="CTO"), None).title == "CTO"


def test_the_input_hash_is_stable_and_changes_with_evidence_model_and_prompt_version():
    first = make_input().input_hash("m", PROMPT_VERSION)
    assert make_input().input_hash("m", PROMPT_VERSION) == first
    assert make_input(evidence=NEWCOMER).input_hash("m", PROMPT_VERSION) != first
    assert make_input().input_hash("other", PROMPT_VERSION) != first
    assert make_input().input_hash("m", "plan-v0") != first


def test_evidence_from_rows_reads_components_pages_and_engagement():
    profile = {
        "level": "hot",
        "score": 72,
        "recency_points": 20,
        "frequency_points": 10,
        "engagement_points": 12,
        "high_intent_points": 30,
        "conversion_points": 0,
        "sessions": 3,
        "pageviews": 9,
        "pricing_views": 2,
        "case_study_views": 1,
        "product_views": 0,
        "forms_submitted": 0,
        "last_activity_at": datetime(2026, 3, 1, 16, tzinfo=UTC),
    }
    pages = [{"page_path": "/pricing", "page_class": "pricing", "views": 2}]
    evidence = evidence_from_rows(profile, pages, {"sent": 2, "opened": 2, "clicked": 1, "delivered": 2, "replied": 0})
    assert evidence.components["high_intent"] == 30
    assert evidence.pages[0].page_class == "pricing"
    assert evidence.email.clicked == 1
    assert evidence.pricing_views == PRICING_READER.pricing_views


def test_a_lead_never_scored_has_empty_evidence():
    assert evidence_from_rows(None, [], None) == NEWCOMER
