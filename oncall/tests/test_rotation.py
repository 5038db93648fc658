"""Tests for the pure schedule engine in ``oncall.rotation``.

Expected instants in the tables are worked out by hand from the rules (local wall time minus
the UTC offset in force, skipped times moved to the transition, repeated times taken at their
first occurrence) and written as literal UTC values, never computed with the code under test.

2026 transitions used:

* America/New_York: 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC);
  2026-11-01 02:00 EDT -> 01:00 EST (06:00 UTC).
* Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST (01:00 UTC);
  2026-10-25 03:00 CEST -> 02:00 CET (01:00 UTC).
* Australia/Sydney: 2026-04-05 03:00 AEDT -> 02:00 AEST (2026-04-04 16:00 UTC);
  2026-10-04 02:00 AEST -> 03:00 AEDT (2026-10-03 16:00 UTC).
* Australia/Lord_Howe (30-minute shifts): 2026-10-04 02:00 +10:30 -> 02:30 +11
  (2026-10-03 15:30 UTC); 2026-04-05 02:00 +11 -> 01:30 +10:30 (2026-04-04 15:00 UTC).
* Asia/Kolkata: always +05:30.
"""

from datetime import UTC, datetime, time, timedelta, timezone
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.rotation import Gap, Layer, Override, Restriction, Rotation, Shift
from oncall.rotation.effective import final_shifts, gaps, oncall_at
from oncall.rotation.layers import layer_shifts
from oncall.rotation.wallclock import to_utc
from tests.support import utc

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")

WEEKDAYS = frozenset(range(5))
EVERY_DAY = frozenset(range(7))
BUSINESS_HOURS = Restriction(WEEKDAYS, time(9), time(17))
OVERNIGHT = Restriction(EVERY_DAY, time(22), time(6))

HOURLY = Rotation("hours", 1)
TWELVE_HOURLY = Rotation("hours", 12)
DAILY = Rotation("days", 1)
WEEKLY = Rotation("weeks", 1)
FORTNIGHTLY = Rotation("weeks", 2)


def layer(
    participants: str,
    rotation: Rotation,
    handoff_start: datetime,
    restrictions: tuple[Restriction, ...] = (),
    end: datetime | None = None,
    name: str = "L",
) -> Layer:
    """Layer with one-letter participant names, e.g. ``layer("abc", ...)``."""
    return Layer(name, tuple(participants), rotation, handoff_start, restrictions, end)


def spans(shifts: list[Shift]) -> list[tuple[str, datetime, datetime]]:
    return [(shift.user, shift.start, shift.end) for shift in shifts]


def sourced(shifts: list[Shift]) -> list[tuple[str, datetime, datetime, str]]:
    return [(shift.user, shift.start, shift.end, shift.source) for shift in shifts]


# --- to_utc ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "local", "expected"),
    [
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 1, 59), utc(2026, 3, 8, 6, 59), id="ny-before"),
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 2, 0), utc(2026, 3, 8, 7), id="ny-gap-start"),
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 7), id="ny-gap"),
        pytest.param(NEW_YORK, datetime(2026, 3, 8, 3, 0), utc(2026, 3, 8, 7), id="ny-after"),
        pytest.param(NEW_YORK, datetime(2026, 11, 1, 0, 59), utc(2026, 11, 1, 4, 59), id="ny-0059"),
        pytest.param(NEW_YORK, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 5, 30), id="ny-fold"),
        pytest.param(NEW_YORK, datetime(2026, 11, 1, 2, 0), utc(2026, 11, 1, 7), id="ny-post-fold"),
        pytest.param(BERLIN, datetime(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1), id="berlin-gap"),
        pytest.param(
            BERLIN, datetime(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30), id="berlin-fold"
        ),
        pytest.param(BERLIN, datetime(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2), id="berlin-post"),
        pytest.param(
            SYDNEY, datetime(2026, 4, 5, 2, 30), utc(2026, 4, 4, 15, 30), id="sydney-fold"
        ),
        pytest.param(SYDNEY, datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 16), id="sydney-gap"),
        pytest.param(KOLKATA, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 7, 21), id="kolkata"),
        pytest.param(
            LORD_HOWE, datetime(2026, 10, 4, 2, 0), utc(2026, 10, 3, 15, 30), id="lh-gap0"
        ),
        pytest.param(
            LORD_HOWE, datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 30), id="lh-gap"
        ),
        pytest.param(
            LORD_HOWE, datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 15, 30), id="lh-post"
        ),
        pytest.param(LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45), id="lh-fold"),
    ],
)
def test_it_resolves_local_times_to_utc(tz: ZoneInfo, local: datetime, expected: datetime) -> None:
    resolved = to_utc(local, tz)
    assert resolved == expected
    assert resolved.tzinfo is UTC


def test_it_ignores_the_callers_fold_and_uses_the_first_occurrence() -> None:
    assert to_utc(datetime(2026, 11, 1, 1, 30, fold=1), NEW_YORK) == utc(2026, 11, 1, 5, 30)


# --- layer_shifts: rotations across transitions ----------------------------------------------

LAYER_CASES = [
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9)),
        (utc(2026, 3, 6, 14), utc(2026, 3, 9, 13)),
        [
            ("a", utc(2026, 3, 6, 14), utc(2026, 3, 7, 14)),
            ("b", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),  # 23 h
            ("c", utc(2026, 3, 8, 13), utc(2026, 3, 9, 13)),
        ],
        id="ny-daily-0900-spring-23h",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 10, 30, 9)),
        (utc(2026, 10, 30, 13), utc(2026, 11, 2, 14)),
        [
            ("a", utc(2026, 10, 30, 13), utc(2026, 10, 31, 13)),
            ("b", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14)),  # 25 h
            ("c", utc(2026, 11, 1, 14), utc(2026, 11, 2, 14)),
        ],
        id="ny-daily-0900-fall-25h",
    ),
    pytest.param(
        BERLIN,
        layer("ab", DAILY, datetime(2026, 3, 28, 9)),
        (utc(2026, 3, 28, 8), utc(2026, 3, 30, 7)),
        [
            ("a", utc(2026, 3, 28, 8), utc(2026, 3, 29, 7)),  # 23 h
            ("b", utc(2026, 3, 29, 7), utc(2026, 3, 30, 7)),
        ],
        id="berlin-daily-0900-spring-23h",
    ),
    pytest.param(
        BERLIN,
        layer("ab", DAILY, datetime(2026, 10, 24, 9)),
        (utc(2026, 10, 24, 7), utc(2026, 10, 26, 8)),
        [
            ("a", utc(2026, 10, 24, 7), utc(2026, 10, 25, 8)),  # 25 h
            ("b", utc(2026, 10, 25, 8), utc(2026, 10, 26, 8)),
        ],
        id="berlin-daily-0900-fall-25h",
    ),
    pytest.param(
        SYDNEY,
        layer("ab", DAILY, datetime(2026, 4, 4, 9)),
        (utc(2026, 4, 3, 22), utc(2026, 4, 5, 23)),
        [
            ("a", utc(2026, 4, 3, 22), utc(2026, 4, 4, 23)),  # 25 h, southern autumn
            ("b", utc(2026, 4, 4, 23), utc(2026, 4, 5, 23)),
        ],
        id="sydney-daily-0900-fall-25h",
    ),
    pytest.param(
        SYDNEY,
        layer("ab", DAILY, datetime(2026, 10, 3, 9)),
        (utc(2026, 10, 2, 23), utc(2026, 10, 4, 22)),
        [
            ("a", utc(2026, 10, 2, 23), utc(2026, 10, 3, 22)),  # 23 h, southern spring
            ("b", utc(2026, 10, 3, 22), utc(2026, 10, 4, 22)),
        ],
        id="sydney-daily-0900-spring-23h",
    ),
    pytest.param(
        KOLKATA,
        layer("ab", DAILY, datetime(2026, 3, 7, 9)),
        (utc(2026, 3, 7, 3, 30), utc(2026, 3, 9, 3, 30)),
        [
            ("a", utc(2026, 3, 7, 3, 30), utc(2026, 3, 8, 3, 30)),
            ("b", utc(2026, 3, 8, 3, 30), utc(2026, 3, 9, 3, 30)),
        ],
        id="kolkata-daily-0900-no-dst",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 7, 2, 30)),
        (utc(2026, 3, 7, 7, 30), utc(2026, 3, 10, 6, 30)),
        [
            ("a", utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7)),  # 02:30 does not exist: 03:00
            ("b", utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)),
            ("c", utc(2026, 3, 9, 6, 30), utc(2026, 3, 10, 6, 30)),
        ],
        id="ny-daily-0230-on-spring-forward-day",
    ),
    pytest.param(
        NEW_YORK,
        layer("ab", DAILY, datetime(2026, 3, 8, 2, 30)),
        (utc(2026, 3, 8), utc(2026, 3, 9, 12)),
        [
            ("a", utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)),
            ("b", utc(2026, 3, 9, 6, 30), utc(2026, 3, 9, 12)),
        ],
        id="ny-first-handoff-inside-the-gap",
    ),
    pytest.param(
        SYDNEY,
        layer("ab", DAILY, datetime(2026, 10, 3, 2, 30)),
        (utc(2026, 10, 2, 16, 30), utc(2026, 10, 4, 15, 30)),
        [
            ("a", utc(2026, 10, 2, 16, 30), utc(2026, 10, 3, 16)),
            ("b", utc(2026, 10, 3, 16), utc(2026, 10, 4, 15, 30)),
        ],
        id="sydney-daily-0230-on-spring-forward-day",
    ),
    pytest.param(
        NEW_YORK,
        layer("ab", DAILY, datetime(2026, 10, 31, 1, 30)),
        (utc(2026, 10, 31, 5, 30), utc(2026, 11, 2, 6, 30)),
        [
            ("a", utc(2026, 10, 31, 5, 30), utc(2026, 11, 1, 5, 30)),  # first 01:30 (EDT)
            ("b", utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)),
        ],
        id="ny-daily-0130-on-fall-back-day",
    ),
    pytest.param(
        BERLIN,
        layer("ab", DAILY, datetime(2026, 10, 24, 2, 30)),
        (utc(2026, 10, 24, 0, 30), utc(2026, 10, 26, 1, 30)),
        [
            ("a", utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30)),  # first 02:30 (CEST)
            ("b", utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)),
        ],
        id="berlin-daily-0230-on-fall-back-day",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", HOURLY, datetime(2026, 3, 8, 0)),
        (utc(2026, 3, 8, 5), utc(2026, 3, 8, 9)),
        [
            ("a", utc(2026, 3, 8, 5), utc(2026, 3, 8, 6)),
            ("b", utc(2026, 3, 8, 6), utc(2026, 3, 8, 7)),
            # c's 02:00 handoff and a's 03:00 handoff are both 07:00 UTC: c's shift is empty.
            ("a", utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)),
            ("b", utc(2026, 3, 8, 8), utc(2026, 3, 8, 9)),
        ],
        id="ny-hourly-spring",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", HOURLY, datetime(2026, 11, 1, 0)),
        (utc(2026, 11, 1, 4), utc(2026, 11, 1, 9)),
        [
            ("a", utc(2026, 11, 1, 4), utc(2026, 11, 1, 5)),
            ("b", utc(2026, 11, 1, 5), utc(2026, 11, 1, 7)),  # 01:00 EDT to 02:00 EST
            ("c", utc(2026, 11, 1, 7), utc(2026, 11, 1, 8)),
            ("a", utc(2026, 11, 1, 8), utc(2026, 11, 1, 9)),
        ],
        id="ny-hourly-fall",
    ),
    pytest.param(
        BERLIN,
        layer("abc", HOURLY, datetime(2026, 3, 29, 0)),
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 3)),
        [
            ("a", utc(2026, 3, 28, 23), utc(2026, 3, 29, 0)),
            ("b", utc(2026, 3, 29, 0), utc(2026, 3, 29, 1)),
            ("a", utc(2026, 3, 29, 1), utc(2026, 3, 29, 2)),
            ("b", utc(2026, 3, 29, 2), utc(2026, 3, 29, 3)),
        ],
        id="berlin-hourly-spring",
    ),
    pytest.param(
        BERLIN,
        layer("abc", HOURLY, datetime(2026, 10, 25, 0)),
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 4)),
        [
            ("a", utc(2026, 10, 24, 22), utc(2026, 10, 24, 23)),
            ("b", utc(2026, 10, 24, 23), utc(2026, 10, 25, 0)),
            ("c", utc(2026, 10, 25, 0), utc(2026, 10, 25, 2)),  # 02:00 CEST to 03:00 CET
            ("a", utc(2026, 10, 25, 2), utc(2026, 10, 25, 3)),
            ("b", utc(2026, 10, 25, 3), utc(2026, 10, 25, 4)),
        ],
        id="berlin-hourly-fall",
    ),
    pytest.param(
        LORD_HOWE,
        layer("abc", HOURLY, datetime(2026, 10, 4, 0)),
        (utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 17)),
        [
            ("a", utc(2026, 10, 3, 13, 30), utc(2026, 10, 3, 14, 30)),
            ("b", utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 15, 30)),
            ("c", utc(2026, 10, 3, 15, 30), utc(2026, 10, 3, 16)),  # 30-minute jump
            ("a", utc(2026, 10, 3, 16), utc(2026, 10, 3, 17)),
        ],
        id="lord-howe-hourly-spring",
    ),
    pytest.param(
        BERLIN,
        layer("ab", TWELVE_HOURLY, datetime(2026, 3, 28, 9)),
        (utc(2026, 3, 28, 8), utc(2026, 3, 30, 7)),
        [
            ("a", utc(2026, 3, 28, 8), utc(2026, 3, 28, 20)),
            ("b", utc(2026, 3, 28, 20), utc(2026, 3, 29, 7)),  # 21:00 CET to 09:00 CEST
            ("a", utc(2026, 3, 29, 7), utc(2026, 3, 29, 19)),
            ("b", utc(2026, 3, 29, 19), utc(2026, 3, 30, 7)),
        ],
        id="berlin-12-hourly-stays-at-0900-2100",
    ),
    pytest.param(
        BERLIN,
        layer("ab", WEEKLY, datetime(2026, 3, 23, 10)),
        (utc(2026, 3, 23, 9), utc(2026, 4, 6, 8)),
        [
            ("a", utc(2026, 3, 23, 9), utc(2026, 3, 30, 8)),  # 167 h
            ("b", utc(2026, 3, 30, 8), utc(2026, 4, 6, 8)),
        ],
        id="berlin-weekly-spring",
    ),
    pytest.param(
        NEW_YORK,
        layer("ab", WEEKLY, datetime(2026, 10, 26, 9)),
        (utc(2026, 10, 26, 13), utc(2026, 11, 9, 14)),
        [
            ("a", utc(2026, 10, 26, 13), utc(2026, 11, 2, 14)),  # 169 h
            ("b", utc(2026, 11, 2, 14), utc(2026, 11, 9, 14)),
        ],
        id="ny-weekly-fall",
    ),
    pytest.param(
        SYDNEY,
        layer("ab", FORTNIGHTLY, datetime(2026, 3, 30, 9)),
        (utc(2026, 3, 29, 22), utc(2026, 4, 26, 23)),
        [
            ("a", utc(2026, 3, 29, 22), utc(2026, 4, 12, 23)),
            ("b", utc(2026, 4, 12, 23), utc(2026, 4, 26, 23)),
        ],
        id="sydney-fortnightly-fall",
    ),
    pytest.param(
        KOLKATA,
        layer("ab", WEEKLY, datetime(2026, 6, 1, 10)),
        (utc(2026, 6, 1, 4, 30), utc(2026, 6, 15, 4, 30)),
        [
            ("a", utc(2026, 6, 1, 4, 30), utc(2026, 6, 8, 4, 30)),
            ("b", utc(2026, 6, 8, 4, 30), utc(2026, 6, 15, 4, 30)),
        ],
        id="kolkata-weekly",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9)),
        (utc(2026, 3, 7, 20), utc(2026, 3, 8, 15)),
        [
            ("b", utc(2026, 3, 7, 20), utc(2026, 3, 8, 13)),
            ("c", utc(2026, 3, 8, 13), utc(2026, 3, 8, 15)),
        ],
        id="clipped-to-the-window",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9)),
        (utc(2026, 3, 6), utc(2026, 3, 6, 14)),
        [],
        id="nobody-before-the-first-handoff",
    ),
]


@pytest.mark.parametrize(("tz", "the_layer", "window", "expected"), LAYER_CASES)
def test_it_places_handoffs_on_the_local_wall_clock(
    tz: ZoneInfo, the_layer: Layer, window: tuple[datetime, datetime], expected: list
) -> None:
    assert spans(layer_shifts(the_layer, tz, *window)) == expected


# --- layer_shifts: restrictions and layer end ------------------------------------------------

RESTRICTED_CASES = [
    pytest.param(
        NEW_YORK,
        layer("ab", WEEKLY, datetime(2026, 3, 2, 9), (BUSINESS_HOURS,)),
        (utc(2026, 3, 5), utc(2026, 3, 11)),
        [
            ("a", utc(2026, 3, 5, 14), utc(2026, 3, 5, 22)),  # Thu, EST
            ("a", utc(2026, 3, 6, 14), utc(2026, 3, 6, 22)),  # Fri, EST
            ("b", utc(2026, 3, 9, 13), utc(2026, 3, 9, 21)),  # Mon, EDT
            ("b", utc(2026, 3, 10, 13), utc(2026, 3, 10, 21)),
        ],
        id="ny-business-hours-across-spring-forward",
    ),
    pytest.param(
        SYDNEY,
        layer("ab", WEEKLY, datetime(2026, 3, 30, 9), (BUSINESS_HOURS,)),
        (utc(2026, 4, 2, 12), utc(2026, 4, 6, 12)),
        [
            ("a", utc(2026, 4, 2, 22), utc(2026, 4, 3, 6)),  # Fri, AEDT
            ("b", utc(2026, 4, 5, 23), utc(2026, 4, 6, 7)),  # Mon, AEST
        ],
        id="sydney-business-hours-across-fall-back",
    ),
    pytest.param(
        BERLIN,
        layer("xy", DAILY, datetime(2026, 3, 27, 12), (OVERNIGHT,)),
        (utc(2026, 3, 26), utc(2026, 3, 30, 12)),
        [
            # The Thursday night window ends before the first handoff: nobody.
            ("x", utc(2026, 3, 27, 21), utc(2026, 3, 28, 5)),
            ("y", utc(2026, 3, 28, 21), utc(2026, 3, 29, 4)),  # 7 h night
            ("x", utc(2026, 3, 29, 20), utc(2026, 3, 30, 4)),
        ],
        id="berlin-overnight-across-spring-forward",
    ),
    pytest.param(
        NEW_YORK,
        layer("xy", DAILY, datetime(2026, 10, 30, 12), (OVERNIGHT,)),
        (utc(2026, 10, 30, 12), utc(2026, 11, 2, 12)),
        [
            ("x", utc(2026, 10, 31, 2), utc(2026, 10, 31, 10)),
            ("y", utc(2026, 11, 1, 2), utc(2026, 11, 1, 11)),  # 9 h night
            ("x", utc(2026, 11, 2, 3), utc(2026, 11, 2, 11)),
        ],
        id="ny-overnight-across-fall-back",
    ),
    pytest.param(
        BERLIN,
        layer(
            "ab",
            WEEKLY,
            datetime(2026, 10, 19, 10),
            (Restriction(frozenset({4}), time(22), time(6)),),
        ),
        (utc(2026, 10, 19), utc(2026, 11, 1)),
        [
            ("a", utc(2026, 10, 23, 20), utc(2026, 10, 24, 4)),  # Fri 22:00 CEST to Sat
            ("b", utc(2026, 10, 30, 21), utc(2026, 10, 31, 5)),  # Fri 22:00 CET to Sat
        ],
        id="window-belongs-to-the-day-it-starts",
    ),
    pytest.param(
        KOLKATA,
        layer("ab", DAILY, datetime(2026, 6, 1, 12), (BUSINESS_HOURS,)),
        (utc(2026, 6, 1), utc(2026, 6, 3)),
        [
            ("a", utc(2026, 6, 1, 6, 30), utc(2026, 6, 1, 11, 30)),
            ("a", utc(2026, 6, 2, 3, 30), utc(2026, 6, 2, 6, 30)),
            ("b", utc(2026, 6, 2, 6, 30), utc(2026, 6, 2, 11, 30)),
        ],
        id="handoff-inside-a-window-splits-it",
    ),
    pytest.param(
        KOLKATA,
        layer(
            "a",
            WEEKLY,
            datetime(2026, 6, 1),
            (BUSINESS_HOURS, Restriction(WEEKDAYS, time(17), time(20))),
        ),
        (utc(2026, 6, 1), utc(2026, 6, 2)),
        [("a", utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 14, 30))],
        id="touching-windows-form-one-piece",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9), end=datetime(2026, 3, 8, 12)),
        (utc(2026, 3, 6, 14), utc(2026, 3, 10)),
        [
            ("a", utc(2026, 3, 6, 14), utc(2026, 3, 7, 14)),
            ("b", utc(2026, 3, 7, 14), utc(2026, 3, 8, 13)),
            ("c", utc(2026, 3, 8, 13), utc(2026, 3, 8, 16)),
        ],
        id="layer-end",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9), end=datetime(2026, 3, 8, 2, 30)),
        (utc(2026, 3, 6, 14), utc(2026, 3, 10)),
        [
            ("a", utc(2026, 3, 6, 14), utc(2026, 3, 7, 14)),
            ("b", utc(2026, 3, 7, 14), utc(2026, 3, 8, 7)),
        ],
        id="layer-end-inside-the-gap",
    ),
    pytest.param(
        NEW_YORK,
        layer("abc", DAILY, datetime(2026, 3, 6, 9), end=datetime(2026, 3, 8, 12)),
        (utc(2026, 3, 9), utc(2026, 3, 10)),
        [],
        id="window-after-layer-end",
    ),
]


@pytest.mark.parametrize(("tz", "the_layer", "window", "expected"), RESTRICTED_CASES)
def test_it_clips_shifts_to_restrictions_and_layer_end(
    tz: ZoneInfo, the_layer: Layer, window: tuple[datetime, datetime], expected: list
) -> None:
    assert spans(layer_shifts(the_layer, tz, *window)) == expected


# --- final_shifts: priorities and overrides --------------------------------------------------

KOLKATA_DAILY = layer("ab", DAILY, datetime(2026, 6, 1, 9), name="base")  # handoffs 03:30 UTC
KOLKATA_SOLO = layer("a", WEEKLY, datetime(2026, 5, 31), name="base")
KOLKATA_DAYTIME = layer("d", WEEKLY, datetime(2026, 6, 1), (BUSINESS_HOURS,), name="day")


def test_it_lets_higher_priority_layers_win_where_they_have_someone() -> None:
    result = final_shifts(
        [KOLKATA_DAYTIME, KOLKATA_SOLO], [], KOLKATA, utc(2026, 6, 1), utc(2026, 6, 2)
    )
    assert sourced(result) == [
        ("a", utc(2026, 6, 1), utc(2026, 6, 1, 3, 30), "base"),
        ("d", utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 11, 30), "day"),
        ("a", utc(2026, 6, 1, 11, 30), utc(2026, 6, 2), "base"),
    ]


def test_it_merges_consecutive_shifts_of_the_same_person_and_source() -> None:
    solo = layer("a", DAILY, datetime(2026, 3, 6, 9))
    result = final_shifts([solo], [], NEW_YORK, utc(2026, 3, 6, 14), utc(2026, 3, 9, 13))
    assert sourced(result) == [("a", utc(2026, 3, 6, 14), utc(2026, 3, 9, 13), "L")]


def test_it_merges_the_pieces_around_a_dropped_empty_shift() -> None:
    # Hourly from 00:00 with two people: b's 01:00 shift, a's empty 02:00 shift (02:00 does
    # not exist) and b's 03:00 shift are one continuous stretch for b.
    result = final_shifts(
        [layer("ab", HOURLY, datetime(2026, 3, 8))],
        [],
        NEW_YORK,
        utc(2026, 3, 8, 5),
        utc(2026, 3, 8, 9),
    )
    assert spans(result) == [
        ("a", utc(2026, 3, 8, 5), utc(2026, 3, 8, 6)),
        ("b", utc(2026, 3, 8, 6), utc(2026, 3, 8, 8)),
        ("a", utc(2026, 3, 8, 8), utc(2026, 3, 8, 9)),
    ]


def test_it_applies_an_override_over_everything_it_covers() -> None:
    cover = Override("x", utc(2026, 6, 1, 6), utc(2026, 6, 1, 8))
    result = final_shifts(
        [KOLKATA_DAILY], [cover], KOLKATA, utc(2026, 6, 1, 3, 30), utc(2026, 6, 3, 3, 30)
    )
    assert sourced(result) == [
        ("a", utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 6), "base"),
        ("x", utc(2026, 6, 1, 6), utc(2026, 6, 1, 8), "override"),
        ("a", utc(2026, 6, 1, 8), utc(2026, 6, 2, 3, 30), "base"),
        ("b", utc(2026, 6, 2, 3, 30), utc(2026, 6, 3, 3, 30), "base"),
    ]


def test_it_applies_a_replacing_override_only_where_that_person_is_on_call() -> None:
    replace_b = Override("y", utc(2026, 6, 1, 20), utc(2026, 6, 2, 10), replaces="b")
    replace_nobody = Override("z", utc(2026, 6, 1, 4), utc(2026, 6, 1, 5), replaces="c")
    result = final_shifts(
        [KOLKATA_DAILY],
        [replace_b, replace_nobody],
        KOLKATA,
        utc(2026, 6, 1, 3, 30),
        utc(2026, 6, 3, 3, 30),
    )
    assert sourced(result) == [
        ("a", utc(2026, 6, 1, 3, 30), utc(2026, 6, 2, 3, 30), "base"),
        ("y", utc(2026, 6, 2, 3, 30), utc(2026, 6, 2, 10), "override"),
        ("b", utc(2026, 6, 2, 10), utc(2026, 6, 3, 3, 30), "base"),
    ]


def test_it_matches_replacements_against_the_layered_result_not_any_layer() -> None:
    # "a" is on call in the base layer all day, but during business hours the higher-priority
    # daytime layer has "d", so the replacement of "a" does not apply there.
    replace_a = Override("z", utc(2026, 6, 1), utc(2026, 6, 2), replaces="a")
    result = final_shifts(
        [KOLKATA_DAYTIME, KOLKATA_SOLO], [replace_a], KOLKATA, utc(2026, 6, 1), utc(2026, 6, 2)
    )
    assert sourced(result) == [
        ("z", utc(2026, 6, 1), utc(2026, 6, 1, 3, 30), "override"),
        ("d", utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 11, 30), "day"),
        ("z", utc(2026, 6, 1, 11, 30), utc(2026, 6, 2), "override"),
    ]


@pytest.mark.parametrize(
    ("orders", "expected"),
    [
        pytest.param(
            (1, 2, 0),
            [
                ("a", utc(2026, 6, 1, 8), utc(2026, 6, 1, 10)),
                ("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 12)),
                ("y", utc(2026, 6, 1, 12), utc(2026, 6, 1, 16)),
                ("a", utc(2026, 6, 1, 16), utc(2026, 6, 1, 18)),
            ],
            id="y-created-last",
        ),
        pytest.param(
            (2, 1, 0),
            [
                ("a", utc(2026, 6, 1, 8), utc(2026, 6, 1, 10)),
                ("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 14)),
                ("y", utc(2026, 6, 1, 14), utc(2026, 6, 1, 16)),
                ("a", utc(2026, 6, 1, 16), utc(2026, 6, 1, 18)),
            ],
            id="x-created-last",
        ),
        pytest.param(
            (1, 1, 3),
            [
                ("a", utc(2026, 6, 1, 8), utc(2026, 6, 1, 10)),
                ("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 11)),
                ("z", utc(2026, 6, 1, 11), utc(2026, 6, 1, 13)),
                ("y", utc(2026, 6, 1, 13), utc(2026, 6, 1, 16)),
                ("a", utc(2026, 6, 1, 16), utc(2026, 6, 1, 18)),
            ],
            id="z-created-last-and-tie-goes-to-the-later-listed",
        ),
    ],
)
def test_it_resolves_overlapping_overrides_by_creation_order(
    orders: tuple[int, int, int], expected: list
) -> None:
    x_order, y_order, z_order = orders
    overrides = [
        Override("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 14), created_order=x_order),
        Override("y", utc(2026, 6, 1, 12), utc(2026, 6, 1, 16), created_order=y_order),
        Override("z", utc(2026, 6, 1, 11), utc(2026, 6, 1, 13), created_order=z_order),
    ]
    result = final_shifts(
        [KOLKATA_SOLO], overrides, KOLKATA, utc(2026, 6, 1, 8), utc(2026, 6, 1, 18)
    )
    assert spans(result) == expected
    for user, span_start, span_end in expected:
        for instant in (span_start, span_end - timedelta(seconds=1)):
            assert oncall_at([KOLKATA_SOLO], overrides, KOLKATA, instant).user == user


def test_it_merges_back_to_back_overrides_of_the_same_person() -> None:
    overrides = [
        Override("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 12)),
        Override("x", utc(2026, 6, 1, 12), utc(2026, 6, 1, 14), created_order=1),
    ]
    result = final_shifts(
        [KOLKATA_SOLO], overrides, KOLKATA, utc(2026, 6, 1, 8), utc(2026, 6, 1, 18)
    )
    assert sourced(result) == [
        ("a", utc(2026, 6, 1, 8), utc(2026, 6, 1, 10), "base"),
        ("x", utc(2026, 6, 1, 10), utc(2026, 6, 1, 14), "override"),
        ("a", utc(2026, 6, 1, 14), utc(2026, 6, 1, 18), "base"),
    ]


def test_it_accepts_instants_in_any_zone_and_answers_in_utc() -> None:
    start = datetime(2026, 3, 6, 9, tzinfo=NEW_YORK)
    end = datetime(2026, 3, 7, 14, tzinfo=timezone(timedelta(hours=5)))  # 09:00 UTC
    result = final_shifts([layer("ab", DAILY, datetime(2026, 3, 6, 9))], [], NEW_YORK, start, end)
    assert spans(result) == [("a", utc(2026, 3, 6, 14), utc(2026, 3, 7, 9))]
    assert all(shift.start.tzinfo is UTC and shift.end.tzinfo is UTC for shift in result)


# --- gaps ------------------------------------------------------------------------------------

NY_BUSINESS = layer("ab", WEEKLY, datetime(2026, 3, 2, 9), (BUSINESS_HOURS,))


def test_it_reports_gaps_outside_restriction_windows() -> None:
    result = gaps([NY_BUSINESS], [], NEW_YORK, utc(2026, 3, 6), utc(2026, 3, 10))
    assert result == [
        Gap(utc(2026, 3, 6), utc(2026, 3, 6, 14)),
        Gap(utc(2026, 3, 6, 22), utc(2026, 3, 9, 13)),
        Gap(utc(2026, 3, 9, 21), utc(2026, 3, 10)),
    ]


def test_it_fills_gaps_with_overrides() -> None:
    weekend_cover = Override("x", utc(2026, 3, 7, 15), utc(2026, 3, 7, 18))
    result = gaps([NY_BUSINESS], [weekend_cover], NEW_YORK, utc(2026, 3, 6), utc(2026, 3, 10))
    assert result == [
        Gap(utc(2026, 3, 6), utc(2026, 3, 6, 14)),
        Gap(utc(2026, 3, 6, 22), utc(2026, 3, 7, 15)),
        Gap(utc(2026, 3, 7, 18), utc(2026, 3, 9, 13)),
        Gap(utc(2026, 3, 9, 21), utc(2026, 3, 10)),
    ]


def test_it_reports_gaps_before_the_first_handoff_and_after_the_layer_end() -> None:
    ending = layer("ab", DAILY, datetime(2026, 3, 6, 9), end=datetime(2026, 3, 8, 12))
    result = gaps([ending], [], NEW_YORK, utc(2026, 3, 6), utc(2026, 3, 9))
    assert result == [
        Gap(utc(2026, 3, 6), utc(2026, 3, 6, 14)),
        Gap(utc(2026, 3, 8, 16), utc(2026, 3, 9)),
    ]


def test_it_reports_the_whole_window_as_a_gap_without_layers() -> None:
    assert gaps([], [], BERLIN, utc(2026, 3, 29), utc(2026, 3, 30)) == [
        Gap(utc(2026, 3, 29), utc(2026, 3, 30))
    ]


def test_it_reports_no_gaps_for_a_fully_covered_window() -> None:
    assert gaps([KOLKATA_SOLO], [], KOLKATA, utc(2026, 6, 1), utc(2026, 6, 8)) == []


# --- oncall_at -------------------------------------------------------------------------------


def test_it_finds_who_is_on_call_after_a_dropped_hour() -> None:
    hourly = layer("abc", HOURLY, datetime(2026, 3, 8))
    assert oncall_at([hourly], [], NEW_YORK, utc(2026, 3, 8, 7, 10)) == Shift(
        "a", utc(2026, 3, 8, 7), utc(2026, 3, 8, 8), "L"
    )


def test_it_finds_the_25_hour_shift_on_fall_back_day() -> None:
    daily = layer("abc", DAILY, datetime(2026, 10, 30, 9))
    assert oncall_at([daily], [], NEW_YORK, utc(2026, 11, 1, 13, 30)) == Shift(
        "b", utc(2026, 10, 31, 13), utc(2026, 11, 1, 14), "L"
    )


def test_it_counts_handoffs_already_made_in_the_first_pass_of_a_repeated_hour() -> None:
    # 06:30 UTC is the second 01:30 in New York; the 01:45 handoff happened at its first
    # occurrence (05:45 UTC), 45 minutes earlier, although 01:45 is still ahead on the clock.
    daily = layer("ab", DAILY, datetime(2026, 10, 31, 1, 45))
    assert oncall_at([daily], [], NEW_YORK, utc(2026, 11, 1, 6, 30)) == Shift(
        "b", utc(2026, 11, 1, 5, 45), utc(2026, 11, 2, 6, 45), "L"
    )


def test_it_returns_the_override_covering_the_instant() -> None:
    cover = Override("x", utc(2026, 6, 1, 6), utc(2026, 6, 1, 8))
    assert oncall_at([KOLKATA_DAILY], [cover], KOLKATA, utc(2026, 6, 1, 7)) == Shift(
        "x", utc(2026, 6, 1, 6), utc(2026, 6, 1, 8), "override"
    )


def test_it_trims_a_layer_shift_at_the_next_override() -> None:
    cover = Override("x", utc(2026, 6, 1, 6), utc(2026, 6, 1, 8))
    assert oncall_at([KOLKATA_DAILY], [cover], KOLKATA, utc(2026, 6, 1, 5)) == Shift(
        "a", utc(2026, 6, 1, 3, 30), utc(2026, 6, 1, 6), "base"
    )


def test_it_trims_a_replacement_to_where_the_replaced_person_is_on_call() -> None:
    replace_a = Override("z", utc(2026, 6, 1), utc(2026, 6, 2), replaces="a")
    assert oncall_at(
        [KOLKATA_DAYTIME, KOLKATA_SOLO], [replace_a], KOLKATA, utc(2026, 6, 1, 12)
    ) == Shift("z", utc(2026, 6, 1, 11, 30), utc(2026, 6, 2), "override")


def test_it_returns_the_restriction_piece_of_an_overnight_window() -> None:
    night = layer("xy", DAILY, datetime(2026, 3, 27, 12), (OVERNIGHT,))
    assert oncall_at([night], [], BERLIN, utc(2026, 3, 29, 1)) == Shift(
        "y", utc(2026, 3, 28, 21), utc(2026, 3, 29, 4), "L"
    )


def test_it_returns_none_in_a_gap() -> None:
    assert oncall_at([NY_BUSINESS], [], NEW_YORK, utc(2026, 3, 7, 15)) is None
    assert oncall_at([NY_BUSINESS], [], NEW_YORK, utc(2026, 3, 1)) is None
    assert oncall_at([], [], NEW_YORK, utc(2026, 3, 1)) is None


# --- validation ------------------------------------------------------------------------------


def test_it_rejects_invalid_rotations() -> None:
    with pytest.raises(ValueError, match="every"):
        Rotation("days", 0)
    with pytest.raises(ValueError, match="every"):
        Rotation("hours", -2)
    with pytest.raises(ValueError, match="unit"):
        Rotation("months", 1)


def test_it_rejects_invalid_restrictions() -> None:
    with pytest.raises(ValueError, match="start and end"):
        Restriction(WEEKDAYS, time(9), time(9))
    with pytest.raises(ValueError, match="weekdays"):
        Restriction(frozenset({7}), time(9), time(17))
    with pytest.raises(ValueError, match="weekday"):
        Restriction(frozenset(), time(9), time(17))


def test_it_rejects_invalid_layers() -> None:
    with pytest.raises(ValueError, match="no participants"):
        Layer("L", (), DAILY, datetime(2026, 3, 6, 9))
    with pytest.raises(ValueError, match="naive"):
        Layer("L", ("a",), DAILY, utc(2026, 3, 6, 9))
    with pytest.raises(ValueError, match="naive"):
        Layer("L", ("a",), DAILY, datetime(2026, 3, 6, 9), end=utc(2026, 3, 8))
    with pytest.raises(ValueError, match="before its first handoff"):
        Layer("L", ("a",), DAILY, datetime(2026, 3, 6, 9), end=datetime(2026, 3, 6, 9))


def test_it_rejects_invalid_overrides() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Override("x", datetime(2026, 6, 1, 6), utc(2026, 6, 1, 8))
    with pytest.raises(ValueError, match="before its end"):
        Override("x", utc(2026, 6, 1, 8), utc(2026, 6, 1, 8))
    with pytest.raises(ValueError, match="before its end"):
        Override("x", utc(2026, 6, 1, 9), utc(2026, 6, 1, 8))


def test_it_rejects_naive_instants_and_empty_windows() -> None:
    naive = datetime(2026, 6, 1)
    with pytest.raises(ValueError, match="naive"):
        to_utc(utc(2026, 6, 1), KOLKATA)
    with pytest.raises(ValueError, match="timezone-aware"):
        oncall_at([KOLKATA_SOLO], [], KOLKATA, naive)
    for function in (final_shifts, gaps):
        with pytest.raises(ValueError, match="timezone-aware"):
            function([KOLKATA_SOLO], [], KOLKATA, naive, utc(2026, 6, 2))
        with pytest.raises(ValueError, match="before its end"):
            function([KOLKATA_SOLO], [], KOLKATA, utc(2026, 6, 2), utc(2026, 6, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        layer_shifts(KOLKATA_SOLO, KOLKATA, utc(2026, 6, 1), naive)
    with pytest.raises(ValueError, match="before its end"):
        layer_shifts(KOLKATA_SOLO, KOLKATA, utc(2026, 6, 2), utc(2026, 6, 1))


# --- properties ------------------------------------------------------------------------------

PEOPLE = ("ann", "bob", "cat", "dan")
QUARTER = timedelta(minutes=15)
# (zone, an instant near one of its 2026 transitions): examples cluster where bugs live.
ZONE_ANCHORS = [
    (NEW_YORK, utc(2026, 3, 8, 7)),
    (NEW_YORK, utc(2026, 11, 1, 6)),
    (BERLIN, utc(2026, 3, 29, 1)),
    (BERLIN, utc(2026, 10, 25, 1)),
    (SYDNEY, utc(2026, 4, 4, 16)),
    (SYDNEY, utc(2026, 10, 3, 16)),
    (LORD_HOWE, utc(2026, 10, 3, 15, 30)),
    (LORD_HOWE, utc(2026, 4, 4, 15)),
    (KOLKATA, utc(2026, 6, 1)),
]
ROTATIONS = [
    Rotation("hours", 1),
    Rotation("hours", 2),
    Rotation("hours", 3),
    Rotation("hours", 8),
    Rotation("hours", 12),
    Rotation("days", 1),
    Rotation("days", 2),
    Rotation("weeks", 1),
]
HALF_HOURS = [time(hour, minute) for hour in range(24) for minute in (0, 30)]
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


@st.composite
def restrictions_strategy(draw: st.DrawFn) -> Restriction:
    start = draw(st.sampled_from(HALF_HOURS))
    end = draw(st.sampled_from([moment for moment in HALF_HOURS if moment != start]))
    return Restriction(draw(st.frozensets(st.integers(0, 6), min_size=1)), start, end)


@st.composite
def schedules(
    draw: st.DrawFn,
    with_restrictions: bool = True,
    with_layer_end: bool = True,
    with_replacements: bool = True,
) -> tuple:
    """A random schedule and window around a DST transition (or none, for Kolkata)."""
    tz, anchor = draw(st.sampled_from(ZONE_ANCHORS))
    start = anchor + QUARTER * draw(st.integers(-4 * 96, 4 * 96))
    end = start + QUARTER * draw(st.integers(1, 5 * 96))
    anchor_local = anchor.astimezone(tz).replace(tzinfo=None, minute=0)

    layers = []
    for index in range(draw(st.integers(0, 3))):
        handoff_start = anchor_local + QUARTER * draw(st.integers(-6 * 96, 3 * 96))
        restrictions = ()
        if with_restrictions:
            restrictions = tuple(draw(st.lists(restrictions_strategy(), max_size=2)))
        layer_end = None
        if with_layer_end and draw(st.booleans()):
            layer_end = handoff_start + QUARTER * draw(st.integers(1, 8 * 96))
        layers.append(
            Layer(
                f"layer{index}",
                tuple(draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=3))),
                draw(st.sampled_from(ROTATIONS)),
                handoff_start,
                restrictions,
                layer_end,
            )
        )

    overrides = []
    for _ in range(draw(st.integers(0, 4))):
        override_start = start + QUARTER * draw(st.integers(-96, 5 * 96))
        replaces = draw(st.sampled_from((None, *PEOPLE))) if with_replacements else None
        overrides.append(
            Override(
                draw(st.sampled_from(("xena", "yves", *PEOPLE))),
                override_start,
                override_start + QUARTER * draw(st.integers(1, 2 * 96)),
                replaces,
                draw(st.integers(0, 2)),
            )
        )
    return tz, layers, overrides, start, end


def probe_instants(
    start: datetime, end: datetime, shifts: list, overrides: list, data: st.DataObject
) -> list:
    """Instants inside the window at, just before and between every boundary, plus a few
    random ones (boundaries alone rarely hit the second pass of a repeated hour)."""
    seconds = int((end - start).total_seconds())
    offsets = data.draw(st.lists(st.integers(0, seconds - 1), max_size=8), label="offsets")
    edges = {start, end, *(start + timedelta(seconds=offset) for offset in offsets)}
    for item in [*shifts, *overrides]:
        edges.update((item.start, item.end))
    ordered = sorted(edge for edge in edges if start <= edge <= end)
    probes = set(ordered[:-1])
    for left, right in pairwise(ordered):
        probes.add(left + (right - left) / 2)
        probes.add(right - timedelta(seconds=1))
    return sorted(probe for probe in probes if start <= probe < end)


def covering(shifts: list[Shift], instant: datetime) -> Shift | None:
    matches = [shift for shift in shifts if shift.start <= instant < shift.end]
    assert len(matches) <= 1
    return matches[0] if matches else None


@PROPERTY_SETTINGS
@given(schedules())
def test_it_keeps_final_shifts_sorted_disjoint_and_merged(schedule: tuple) -> None:
    tz, layers, overrides, start, end = schedule
    result = final_shifts(layers, overrides, tz, start, end)
    for shift in result:
        assert start <= shift.start < shift.end <= end
        assert shift.start.tzinfo is UTC and shift.end.tzinfo is UTC
    for earlier, later in pairwise(result):
        assert earlier.end <= later.start
        if earlier.end == later.start:
            assert (earlier.user, earlier.source) != (later.user, later.source)


@PROPERTY_SETTINGS
@given(schedules(with_restrictions=False, with_layer_end=False))
def test_it_leaves_no_gaps_after_the_first_handoff_of_unrestricted_layers(schedule: tuple) -> None:
    tz, layers, overrides, start, end = schedule
    if not layers:
        return
    first_handoff = min(to_utc(each.handoff_start, tz) for each in layers)
    covered_from = max(start, first_handoff)
    assert all(gap.end <= covered_from for gap in gaps(layers, overrides, tz, start, end))
    result = final_shifts(layers, overrides, tz, start, end)
    if covered_from < end:
        assert result and result[-1].end == end
        tail = [shift for shift in result if shift.end > covered_from]
        for earlier, later in pairwise(tail):
            assert earlier.end == later.start


@PROPERTY_SETTINGS
@given(schedules(with_replacements=False), st.data())
def test_it_gives_every_overridden_instant_to_the_latest_created_override(
    schedule: tuple, data: st.DataObject
) -> None:
    tz, layers, overrides, start, end = schedule
    result = final_shifts(layers, overrides, tz, start, end)
    for instant in probe_instants(start, end, result, overrides, data):
        candidates = [
            (override.created_order, index, override.user)
            for index, override in enumerate(overrides)
            if override.start <= instant < override.end
        ]
        shift = covering(result, instant)
        if candidates:
            assert shift is not None
            assert (shift.user, shift.source) == (max(candidates)[2], "override")
        else:
            assert shift is None or shift.source != "override"


@PROPERTY_SETTINGS
@given(schedules(), st.data())
def test_it_agrees_between_oncall_at_and_final_shifts(schedule: tuple, data: st.DataObject) -> None:
    tz, layers, overrides, start, end = schedule
    result = final_shifts(layers, overrides, tz, start, end)
    for instant in probe_instants(start, end, result, overrides, data):
        expected = covering(result, instant)
        actual = oncall_at(layers, overrides, tz, instant)
        if expected is None:
            assert actual is None
            continue
        assert actual is not None
        assert (actual.user, actual.source) == (expected.user, expected.source)
        assert actual.start <= instant < actual.end
        # The piece may be shorter than the merged shift but must never extend past it.
        assert expected.start <= max(actual.start, start)
        assert min(actual.end, end) <= expected.end


@PROPERTY_SETTINGS
@given(schedules())
def test_it_makes_gaps_the_exact_complement_of_final_shifts(schedule: tuple) -> None:
    tz, layers, overrides, start, end = schedule
    tiles = [
        (shift.start, shift.end, "shift")
        for shift in final_shifts(layers, overrides, tz, start, end)
    ]
    tiles += [(gap.start, gap.end, "gap") for gap in gaps(layers, overrides, tz, start, end)]
    tiles.sort()
    assert tiles[0][0] == start
    assert tiles[-1][1] == end
    for earlier, later in pairwise(tiles):
        assert earlier[1] == later[0]
        assert not (earlier[2] == later[2] == "gap")


def reference_user(the_layer: Layer, tz: ZoneInfo, instant: datetime) -> str | None:
    """Who the layer has on call, found the slow obvious way: walk every handoff from the first
    and test every window of the surrounding local days."""
    if the_layer.end is not None and instant >= to_utc(the_layer.end, tz):
        return None
    step = {"hours": timedelta(hours=1), "days": timedelta(days=1), "weeks": timedelta(weeks=1)}
    step = step[the_layer.rotation.unit] * the_layer.rotation.every
    current, handoff, index = None, the_layer.handoff_start, 0
    while to_utc(handoff, tz) <= instant:
        current, handoff, index = index, handoff + step, index + 1
    if current is None:
        return None
    if the_layer.restrictions:
        local_day = instant.astimezone(tz).date()
        windows = []
        for offset in range(-3, 2):
            day = local_day + timedelta(days=offset)
            for restriction in the_layer.restrictions:
                if day.weekday() in restriction.days:
                    end_day = (
                        day + timedelta(days=1) if restriction.end < restriction.start else day
                    )
                    windows.append(
                        (
                            to_utc(datetime.combine(day, restriction.start), tz),
                            to_utc(datetime.combine(end_day, restriction.end), tz),
                        )
                    )
        if not any(window_start <= instant < window_end for window_start, window_end in windows):
            return None
    return the_layer.participants[current % len(the_layer.participants)]


@PROPERTY_SETTINGS
@given(schedules(), st.data())
def test_it_matches_walking_every_handoff_from_the_first(
    schedule: tuple, data: st.DataObject
) -> None:
    tz, layers, _, start, end = schedule
    for the_layer in layers:
        pieces = layer_shifts(the_layer, tz, start, end)
        probes = probe_instants(start, end, pieces, [], data)
        for instant in data.draw(st.lists(st.sampled_from(probes), max_size=12)):
            piece = covering(pieces, instant)
            assert (piece.user if piece else None) == reference_user(the_layer, tz, instant)
