"""Hypothesis on the outcomes boundary: for any input, accepted or the declared error, nothing else.

The declared errors: pydantic's ValidationError for the models, InputError for the parsers
(`json_input.loads`, `clean_attributes`, `WinRateQuery.from_args`). Whatever is accepted is
storable: ids match their document-id patterns, text is valid Unicode without NUL.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from oie import doc_ids, json_input
from oie.errors import InputError
from oie.outcomes.models import OutcomeIn
from oie.outcomes.service import clean_attributes
from oie.outcomes.win_rates import WinRateQuery

SETTINGS = settings(max_examples=300, deadline=None)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(["", "..", "/", "__x__", "ld_abcdefgh/outcomes/x", "\x00", "\ud800", "2026-03-01T00:00:00Z"])
)
json_values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20
)
lead_ids = (
    st.sampled_from(["ld_0000000000000001", "ld_abcdefgh"])
    | st.text()
    | st.from_regex(r"ld_[0-9A-Za-z]{6,34}", fullmatch=True)
)
outcome_fields = st.fixed_dictionaries(
    {},
    optional={
        "lead_id": lead_ids | json_values,
        "outcome_type": st.sampled_from(["contacted", "closed_won"]) | json_values,
        "occurred_at": st.datetimes().map(lambda d: d.isoformat()) | json_values,
        "notes": st.text(max_size=2100) | json_values,
        "outcome_id": st.from_regex(r"[A-Za-z0-9_-]{6,66}", fullmatch=True) | json_values,
        "override": json_values,
        "deal_value_band": json_values,
        "reason_code": json_values,
        "extra": json_values,
    },
)


@SETTINGS
@given(st.one_of(outcome_fields, json_values))
def test_an_outcome_is_accepted_storable_or_refused_with_a_validation_error(raw):
    try:
        item = OutcomeIn.model_validate(raw)
    except ValidationError as exc:
        assert exc.errors()  # names at least one problem (and its location)
        return
    assert doc_ids.is_valid("lead_id", item.lead_id)
    assert item.outcome_id is None or doc_ids.is_valid("outcome_id", item.outcome_id)
    for text in (item.outcome_type, item.notes, item.deal_value_band, item.reason_code):
        assert json_input.is_clean_text(text)
    assert item.occurred_at is None or item.occurred_at.year <= 9999


@SETTINGS
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v, allow_nan=True).encode()))
def test_any_body_decodes_or_is_an_input_error_naming_the_body(body):
    try:
        json_input.loads(body)
    except InputError as exc:
        assert exc.field == "body"


attribute_names = st.sampled_from(
    ["source_key", "geo_key", "intent_type", "tier", "timeline_bucket", "last_activity_at", "metadata", "colour"]
)


@SETTINGS
@given(st.dictionaries(attribute_names | st.text(max_size=5), json_values, max_size=4))
def test_lead_attributes_are_cleaned_or_refused_naming_a_field_that_was_sent(raw):
    try:
        cleaned = clean_attributes(raw)
    except InputError as exc:
        # An update that names no attribute at all is refused as a whole (field "body").
        assert exc.field in raw or exc.field == "metadata" or (exc.field == "body" and not raw)
        return
    assert set(cleaned) <= set(raw)
    for name, value in cleaned.items():
        if name != "metadata":
            assert isinstance(value, str) and json_input.is_clean_text(value) and len(value) <= 80


@SETTINGS
@given(
    st.text(max_size=20),
    st.dictionaries(st.sampled_from(["weeks", "min_denominator", "intent_type", "x"]), st.text(max_size=30)),
)
def test_win_rate_filters_parse_or_are_an_input_error(by, args):
    try:
        query = WinRateQuery.from_args(by, args)
    except InputError as exc:
        assert exc.field in ("by", "weeks", "min_denominator")
        return
    assert 1 <= query.weeks <= 26 and 0 <= query.min_denominator < 10**7 and len(query.intent_type) <= 80
