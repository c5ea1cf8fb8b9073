"""The hot-leads query string: filters parsed strictly, a bad one named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from oie.console.http import hot_leads_query
from oie.errors import InputError

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def parse(**args: str | list[str]) -> object:
    return hot_leads_query(MultiDict(args), NOW)


def test_levels_repeat_or_separate_by_commas():
    assert parse(level=["hot", "burning,warm"]).level == ["hot", "burning", "warm"]  # type: ignore[attr-defined]


def test_since_is_a_time_with_a_zone_or_a_span_back_from_now():
    assert parse(since="7d").since == NOW - timedelta(days=7)  # type: ignore[attr-defined]
    assert parse(since="15m").since == NOW - timedelta(minutes=15)  # type: ignore[attr-defined]
    assert parse(since="2026-03-01T00:00:00Z").since == datetime(2026, 3, 1, tzinfo=UTC)  # type: ignore[attr-defined]


def test_search_text_is_squeezed():
    assert parse(q="  Ada   Lovelace ").q == "Ada Lovelace"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"level": "scorching"}, "level.0"),
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"since": "2026-03-01T00:00:00"}, "since"),
        ({"since": "yesterday"}, "since"),
        ({"campaign": "a b"}, "campaign"),
        ({"q": "x" * 201}, "q"),
        ({"sort": "score"}, "sort"),
        ({"limit": ["5", "6"]}, "limit"),
    ],
)
def test_a_bad_filter_is_named(args, field):
    with pytest.raises(InputError) as raised:
        parse(**args)
    assert raised.value.field == field
