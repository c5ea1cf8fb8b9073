"""/track's quick bounds check never lets through what `json_input.problem` would refuse."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from oie import json_input
from oie.json_input import Bounds, is_clean_text
from oie.track.bounds import surely_clean, within
from oie.track.models import CUSTOM_BOUNDS, EVENT_BOUNDS
from tests.property.strategies import BOUNDED, JSON_VALUES, dumps

TIGHT = Bounds(depth=2, string=5, items=2, key=3)


def texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    if isinstance(value, dict):
        return [t for key, item in value.items() for t in [key, *texts(item)]]
    return []


@BOUNDED
@given(JSON_VALUES, st.sampled_from([EVENT_BOUNDS, CUSTOM_BOUNDS, TIGHT]))
def test_a_quick_yes_is_only_given_to_what_problem_finds_no_fault_in(value, bounds):
    body = dumps(value)
    decoded = json_input.loads(body)
    if surely_clean(body) and within(decoded, bounds):
        assert json_input.problem(decoded, bounds) is None


@BOUNDED
@given(JSON_VALUES)
def test_a_body_is_never_called_clean_when_a_decoded_string_holds_nul_or_a_lone_surrogate(value):
    body = dumps(value)
    if not all(is_clean_text(t) for t in texts(json_input.loads(body))):
        assert not surely_clean(body)


def test_the_quick_check_refuses_each_limit_it_stands_for():
    assert within({"a": [1, "abcde"]}, TIGHT)
    assert not within({"a": [[1]]}, TIGHT)  # too deep
    assert not within({"a": "abcdef"}, TIGHT)  # too long
    assert not within([1, 2, 3], TIGHT)  # too many items
    assert not within({"abcd": 1}, TIGHT)  # key too long
    assert not within(2**53 + 1, TIGHT) and not within(float("nan"), TIGHT)
    assert not surely_clean(b'{"t":"\\u0000"}') and not surely_clean(b'{"t":"\\uDBFF"}')
    assert surely_clean('{"t":"caf\\u00e9 \u00e9"}'.encode())
