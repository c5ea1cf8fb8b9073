"""The document-id patterns: every id the engine makes fits its pattern; nothing that names another document does."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from oie import doc_ids
from oie.errors import InputError
from oie.links import ids
from oie.outcomes import rules
from oie.outcomes.models import OutcomeIn

HOSTILE = [
    "",
    ".",
    "..",
    "a/b",
    "__x__",
    "__abcdefghij__",
    "ld_abc\x00defgh",
    "ld_abcdefgh\n",
    " ld_abcdefgh",
    "é" * 10,
]


def test_the_ids_the_engine_makes_fit_their_patterns():
    secret = b"s" * 32
    for n in range(200):
        assert doc_ids.is_valid("lead_id", ids.lead_id(secret, "acme", f"p{n}@example.com"))
        assert doc_ids.is_valid("key_id", secrets.token_hex(6))
        for tracking_id in ids.tracking_id_candidates(secret, "acme", "q1", f"p{n}@example.com"):
            assert doc_ids.is_valid("tracking_id", tracking_id)
    assert doc_ids.is_valid("campaign_id", ids.campaign_id("Q1 Enterprise!"))
    assert doc_ids.is_valid("campaign_id", ids.campaign_id("x" * 100))
    item = OutcomeIn(lead_id="ld_0000000000000001", outcome_type="contacted")
    assert doc_ids.is_valid("outcome_id", rules.outcome_id_for("acme", item, datetime.now(UTC), "crm"))
    assert doc_ids.is_valid("nudge_id", "outcome_missing-2026-03-11")
    assert doc_ids.is_valid("tenant_id", "demo")


@pytest.mark.parametrize("kind", sorted(doc_ids.PATTERNS))
@pytest.mark.parametrize("value", HOSTILE)
def test_nothing_that_could_name_another_document_fits_any_pattern(kind, value):
    assert not doc_ids.is_valid(kind, value)
    with pytest.raises(InputError) as error:
        doc_ids.require(kind, value, field="the_field")
    assert error.value.field == "the_field"


def test_the_annotated_types_check_the_raw_value_before_any_coercion():
    class Model(BaseModel):
        model_config = {"str_strip_whitespace": True}
        lead_id: doc_ids.LeadId

    assert Model(lead_id="ld_abcdefgh").lead_id == "ld_abcdefgh"
    for bad in ("ld_abcdefgh\n", " ld_abcdefgh", 12345678, None):
        with pytest.raises(ValidationError):
            Model.model_validate({"lead_id": bad})
