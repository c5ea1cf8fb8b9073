"""Durations and quiet hours on the contact's wall clock, across midnight and DST."""

from datetime import UTC, datetime, time

import pytest

from oie.campaigns.timing import Duration, QuietHours, add_duration, parse_duration, zone

LA = zone("America/Los_Angeles")
NIGHT = QuietHours(time(21, 0), time(7, 30))


@pytest.mark.parametrize(
    ("text", "duration"),
    [("P3D", Duration(3, 0)), ("PT4H", Duration(0, 14_400)), ("P1W2DT30M", Duration(9, 1800)), ("PT0S", Duration())],
)
def test_iso_durations_parse(text, duration):
    assert parse_duration(text) == duration


@pytest.mark.parametrize("text", ["P", "PT", "3D", "P1M", "P1Y", "P1.5D", "", "PT1H2D"])
def test_ambiguous_or_malformed_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 3, 3, 7, 0, tzinfo=UTC), datetime(2026, 3, 3, 15, 30, tzinfo=UTC)),  # 23:00 -> 07:30 next day
        (datetime(2026, 3, 3, 11, 0, tzinfo=UTC), datetime(2026, 3, 3, 15, 30, tzinfo=UTC)),  # 03:00 -> 07:30 same day
        (datetime(2026, 3, 3, 5, 0, tzinfo=UTC), datetime(2026, 3, 3, 15, 30, tzinfo=UTC)),  # 21:00 sharp is quiet
        (datetime(2026, 3, 3, 15, 30, tzinfo=UTC), datetime(2026, 3, 3, 15, 30, tzinfo=UTC)),  # 07:30 is allowed
        (datetime(2026, 3, 3, 4, 59, tzinfo=UTC), datetime(2026, 3, 3, 4, 59, tzinfo=UTC)),  # 20:59 is allowed
    ],
)
def test_quiet_hours_across_midnight_push_to_the_next_allowed_minute(utc, expected):
    assert NIGHT.next_allowed(utc, LA) == expected


def test_quiet_hours_end_on_the_new_offset_after_spring_forward():
    # 23:00 PST on Saturday 7 March 2026; DST starts at 02:00 on Sunday: 07:30 is then PDT (UTC-7).
    assert NIGHT.next_allowed(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), LA) == datetime(2026, 3, 8, 14, 30, tzinfo=UTC)


def test_quiet_hours_end_on_the_new_offset_after_fall_back():
    # 23:00 PDT on Saturday 31 October 2026; 07:30 on Sunday 1 November is PST (UTC-8).
    assert NIGHT.next_allowed(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), LA) == datetime(2026, 11, 1, 15, 30, tzinfo=UTC)


def test_a_quiet_end_inside_the_dst_gap_lands_on_the_first_real_minute_after():
    early = QuietHours(time(1, 0), time(2, 30))  # 02:30 does not exist on 8 March 2026
    assert early.next_allowed(datetime(2026, 3, 8, 9, 15, tzinfo=UTC), LA) == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_same_day_quiet_hours_block_only_their_window():
    lunch = QuietHours(time(12, 0), time(13, 0))
    assert lunch.is_quiet(time(12, 30)) and not lunch.is_quiet(time(13, 0)) and not lunch.is_quiet(time(23, 0))


def test_days_are_added_on_the_wall_clock_across_dst_and_hours_exactly():
    saturday_9am = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
    assert add_duration(saturday_9am, parse_duration("P1D"), LA) == datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    assert add_duration(saturday_9am, parse_duration("PT24H"), LA) == datetime(2026, 3, 8, 17, 0, tzinfo=UTC)
