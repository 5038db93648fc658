"""ISO weeks in a team's zone (pure, no database), with tables of real DST transitions."""

import itertools
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metrics.weeks import (
    is_closed,
    iso_week_of,
    parse_iso_week,
    shift_week,
    week_bounds,
    week_ranges,
    weeks_between,
)
from tests.support import utc

HOUR = timedelta(hours=1)

# (zone, week, start UTC, end UTC, hours): the DST weeks of 2026 on both sides of the Atlantic.
DST_WEEKS = [
    # Berlin springs forward on Sunday 29 March 02:00 CET -> 03:00 CEST.
    ("Europe/Berlin", "2026-W13", utc(2026, 3, 22, 23), utc(2026, 3, 29, 22), 167),
    # ... and falls back on Sunday 25 October 03:00 CEST -> 02:00 CET.
    ("Europe/Berlin", "2026-W43", utc(2026, 10, 18, 22), utc(2026, 10, 25, 23), 169),
    # New York springs forward on Sunday 8 March, falls back on Sunday 1 November.
    ("America/New_York", "2026-W10", utc(2026, 3, 2, 5), utc(2026, 3, 9, 4), 167),
    ("America/New_York", "2026-W44", utc(2026, 10, 26, 4), utc(2026, 11, 2, 5), 169),
    # Ordinary weeks.
    ("Europe/Berlin", "2026-W47", utc(2026, 11, 15, 23), utc(2026, 11, 22, 23), 168),
    ("UTC", "2026-W47", utc(2026, 11, 16), utc(2026, 11, 23), 168),
    # Lord Howe moves its clocks by half an hour.
    ("Australia/Lord_Howe", "2026-W14", utc(2026, 3, 29, 13), utc(2026, 4, 5, 13, 30), 168.5),
]


@pytest.mark.parametrize(("zone", "week", "start", "end", "hours"), DST_WEEKS)
def test_it_bounds_weeks_at_local_midnight_across_dst(zone, week, start, end, hours):
    assert week_bounds(week, zone) == (start, end)
    assert (end - start) / HOUR == hours


@pytest.mark.parametrize(("zone", "week", "start", "end", "hours"), DST_WEEKS)
def test_it_puts_instants_in_the_week_of_the_local_wall_clock(zone, week, start, end, hours):
    microsecond = timedelta(microseconds=1)
    assert iso_week_of(start, zone) == week
    assert iso_week_of(end - microsecond, zone) == week
    assert iso_week_of(end, zone) == shift_week(week, 1)
    assert iso_week_of(start - microsecond, zone) == shift_week(week, -1)


def test_it_uses_the_team_zone_not_utc():
    # Monday 00:30 in Berlin is still Sunday in UTC and Sunday evening in New York.
    instant = utc(2026, 11, 22, 23, 30)
    assert iso_week_of(instant, "Europe/Berlin") == "2026-W48"
    assert iso_week_of(instant, "UTC") == "2026-W47"
    assert iso_week_of(instant, "America/New_York") == "2026-W47"


def test_it_knows_years_with_53_iso_weeks():
    assert iso_week_of(utc(2027, 1, 1, 12), "UTC") == "2026-W53"
    assert iso_week_of(utc(2027, 1, 4, 12), "UTC") == "2027-W01"
    assert week_bounds("2026-W53", "UTC") == (utc(2026, 12, 28), utc(2027, 1, 4))
    assert parse_iso_week("2026-W53") == (2026, 53)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2027-W53", "2027 has 52 ISO weeks"),
        ("2026-W54", "2026 has 53 ISO weeks"),
        ("2026-W00", "2026 has 53 ISO weeks"),
        ("2026-47", "not an ISO week"),
        ("2026-W7", "not an ISO week"),
        ("", "not an ISO week"),
        ("2026-w47", "not an ISO week"),
    ],
)
def test_it_rejects_weeks_that_do_not_exist(value, message):
    with pytest.raises(ValueError, match=message):
        week_bounds(value, "UTC")


def test_it_lists_weeks_across_a_year_end():
    assert weeks_between("2026-W52", "2027-W02") == ["2026-W52", "2026-W53", "2027-W01", "2027-W02"]
    assert weeks_between("2026-W47", "2026-W47") == ["2026-W47"]
    assert weeks_between("2026-W48", "2026-W47") == []
    assert shift_week("2027-W01", -2) == "2026-W52"


def test_it_builds_contiguous_ranges_for_a_span_with_dst():
    ranges = week_ranges("2026-W42", "2026-W45", "America/New_York")
    assert [r.week for r in ranges] == ["2026-W42", "2026-W43", "2026-W44", "2026-W45"]
    assert all(a.end == b.start for a, b in itertools.pairwise(ranges))
    assert [(r.end - r.start) / HOUR for r in ranges] == [168, 168, 169, 168]


def test_it_calls_a_week_closed_only_once_it_has_ended():
    start, end = week_bounds("2026-W47", "Europe/Berlin")
    assert not is_closed("2026-W47", "Europe/Berlin", now=end - timedelta(microseconds=1))
    assert is_closed("2026-W47", "Europe/Berlin", now=end)
    assert not is_closed("2026-W47", "Europe/Berlin", now=start)


def test_it_refuses_naive_instants():
    with pytest.raises(ValueError, match="aware"):
        iso_week_of(datetime(2026, 11, 26, 10), "UTC")


ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "America/Santiago",  # DST changes at midnight
    "Asia/Kolkata",
    "Pacific/Apia",  # skipped a whole day in 2011
    "UTC",
]


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    monday=st.dates(min_value=datetime(2000, 1, 3).date(), max_value=datetime(2040, 1, 1).date()),
)
def test_it_tiles_time_with_weeks_in_any_zone(zone, monday):
    year, number, _ = monday.isocalendar()
    week = f"{year:04d}-W{number:02d}"
    start, end = week_bounds(week, zone)
    following_start, _ = week_bounds(shift_week(week, 1), zone)
    assert end == following_start
    assert iso_week_of(start, zone) == week
    assert iso_week_of(end - timedelta(microseconds=1), zone) == week
    assert timedelta(days=6) <= end - start <= timedelta(days=8)
