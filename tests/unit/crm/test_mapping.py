"""What is written to a contact and a note, from stored facts only."""

from __future__ import annotations

from oie.crm import mapping
from tests.unit.crm.fakes import NOW, change, profile


def test_each_field_has_one_name_per_crm_under_the_engines_prefix():
    assert mapping.BY_NAME["intent_score"].hubspot == "oie_intent_score"
    assert mapping.BY_NAME["intent_score"].salesforce == "OIE_Intent_Score__c"
    assert all(f.hubspot.startswith("oie_") and f.salesforce.startswith("OIE_") for f in mapping.FIELDS)


def test_contact_values_cover_only_the_fields_the_engine_writes():
    values = mapping.contact_values(
        profile("ada", score=71.6), ["/a"] * 7, "Abc12345", NOW, ["intent_score", "top_pages"]
    )
    assert values == {"intent_score": 72.0, "top_pages": "\n".join(["/a"] * mapping.TOP_PAGES)}


def test_the_reason_is_in_words_and_the_last_visit_an_iso_time():
    values = mapping.contact_values(profile("ada"), [], None, NOW, list(mapping.BY_NAME))
    assert values["intent_reason"].startswith("pricing page 3")
    assert values["last_visit"] == NOW.isoformat()
    assert values["tracking_id"] == ""


def test_only_a_rise_into_a_note_level_gets_a_note():
    levels = ("hot", "burning")
    assert mapping.is_note_rise("warm", "hot", levels)
    assert mapping.is_note_rise(None, "burning", levels)
    assert not mapping.is_note_rise("burning", "hot", levels)
    assert not mapping.is_note_rise("cold", "warm", levels)


def test_a_note_key_is_stable_one_token_and_bound_to_the_tenant():
    key = mapping.note_key("acme", "acme:ada:hot:1")
    assert key == mapping.note_key("acme", "acme:ada:hot:1")
    assert key != mapping.note_key("other", "acme:ada:hot:1")
    assert key.startswith("oie-") and key.replace("-", "").isalnum()


def test_a_note_shows_the_rise_the_reason_the_evidence_the_pages_and_its_key():
    row = change("acme", "ada")
    body = mapping.note_body(row, profile("ada"), ["/pricing"], NOW, "oie-k")
    assert body.splitlines()[0].startswith("Warm -> Hot at ")
    assert "Why: pricing page 3" in body
    assert "Evidence: corroborated (1 verified, 2 corroborated sessions)" in body
    assert "Top pages: /pricing" in body and body.endswith("Ref: oie-k")
