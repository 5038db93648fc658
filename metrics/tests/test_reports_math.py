"""Weekly report helpers are pure: changes, working hours across DST, formats."""

from datetime import UTC, datetime

import pytest

from metrics.report_math import (
    change_percent,
    fmt_change,
    fmt_duration,
    is_off_hours,
    top,
    weighted_mean,
)


def test_it_weights_each_weekly_mean_by_its_incident_count():
    assert weighted_mean([(1, 100.0), (3, 200.0), (0, None), (2, None)]) == 175.0
    assert weighted_mean([(0, None)]) is None


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (150.0, 100.0, 50.0),
        (50.0, 200.0, -75.0),
        (1.0, 3.0, -66.7),
        (5.0, 0, None),
        (None, 3.0, None),
    ],
)
def test_it_gives_the_change_in_percent(current, previous, expected):
    assert change_percent(current, previous) == expected


@pytest.mark.parametrize(
    ("instant", "zone", "off"),
    [
        # Friday 17:59 and 18:00 in Berlin (CET, UTC+1)
        (datetime(2026, 11, 27, 16, 59, tzinfo=UTC), "Europe/Berlin", False),
        (datetime(2026, 11, 27, 17, 0, tzinfo=UTC), "Europe/Berlin", True),
        # Monday 07:59 / 08:00 in New York (EST, UTC-5)
        (datetime(2026, 11, 30, 12, 59, tzinfo=UTC), "America/New_York", True),
        (datetime(2026, 11, 30, 13, 0, tzinfo=UTC), "America/New_York", False),
        # Saturday noon is off hours
        (datetime(2026, 11, 28, 12, 0, tzinfo=UTC), "UTC", True),
        # The Monday after Berlin's clocks went back (26 Oct 2026): 07:30 UTC is 08:30 CET,
        # while the same UTC time a week earlier was 09:30 CEST: both in working hours;
        # 06:30 UTC is 07:30 CET now (off) but was 08:30 CEST a week before (on).
        (datetime(2026, 10, 26, 6, 30, tzinfo=UTC), "Europe/Berlin", True),
        (datetime(2026, 10, 19, 6, 30, tzinfo=UTC), "Europe/Berlin", False),
    ],
)
def test_it_judges_working_hours_on_the_persons_wall_clock(instant, zone, off):
    assert is_off_hours(instant, zone) is off


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (45.4, "45s"),
        (725, "12m 5s"),
        (11040, "3h 4m"),
        (176400, "2d 1h"),
        (-30, "-30s"),
    ],
)
def test_it_formats_durations_for_people(seconds, text):
    assert fmt_duration(seconds) == text


def test_it_formats_changes_with_a_sign():
    assert fmt_change(12.345) == "+12.3%"
    assert fmt_change(-4.0) == "-4.0%"
    assert fmt_change(None) == "—"


def test_it_ranks_the_noisiest_rows_and_drops_silent_ones():
    rows = [
        {"name": "b", "incidents": 2, "alerts": 5},
        {"name": "a", "incidents": 2, "alerts": 5},
        {"name": "c", "incidents": 3, "alerts": 1},
        {"name": "quiet", "incidents": 0, "alerts": 0},
        {"name": "d", "incidents": 2, "alerts": 9},
    ]
    ranked = top(rows, keys=("incidents", "alerts"), limit=3)
    assert [r["name"] for r in ranked] == ["c", "d", "a"]
    assert [r["name"] for r in top(rows, keys=("incidents", "alerts"), limit=10)][-1] == "b"
