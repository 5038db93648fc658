"""ISO weeks in a team's time zone. Pure: no database, no Django.

A week is Monday 00:00 local to the next Monday 00:00 local. Across a DST change that is
167 or 169 hours, so bounds are always computed with zoneinfo from the local date and never
by adding 7 * 24 hours to an instant. The database only ever sees the resulting UTC bounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

_ISO_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class WeekRange:
    week: str  # "2026-W47"
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive


def zone(tz: tzinfo | str) -> tzinfo:
    """A tzinfo from an IANA name (or a tzinfo, returned as is)."""
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def weeks_in_year(year: int) -> int:
    # 28 December always lies in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


def parse_iso_week(iso_week: str) -> tuple[int, int]:
    """ "2026-W47" -> (2026, 47); ValueError with a readable message otherwise."""
    match = _ISO_WEEK.match(iso_week or "")
    if not match:
        raise ValueError(f"{iso_week!r} is not an ISO week like 2026-W47")
    year, week = int(match[1]), int(match[2])
    if year < 1 or not 1 <= week <= weeks_in_year(year):
        raise ValueError(f"{iso_week!r} does not exist: {year} has {weeks_in_year(year)} ISO weeks")
    return year, week


def format_iso_week(year: int, week: int) -> str:
    return f"{year:04d}-W{week:02d}"


def monday_of(iso_week: str) -> date:
    year, week = parse_iso_week(iso_week)
    return date.fromisocalendar(year, week, 1)


def _week_of_date(day: date) -> str:
    year, week, _ = day.isocalendar()
    return format_iso_week(year, week)


def iso_week_of(instant: datetime, tz: tzinfo | str) -> str:
    """The ISO week an aware instant falls in, on the wall clock of `tz`."""
    if instant.tzinfo is None:
        raise ValueError("iso_week_of needs an aware datetime")
    return _week_of_date(instant.astimezone(zone(tz)).date())


def _local_midnight_utc(day: date, tz: tzinfo) -> datetime:
    # Where midnight does not exist (a DST jump at 00:00), zoneinfo's fold=0 maps it to
    # the first instant after the gap; the same rule ends one week and starts the next,
    # so weeks stay contiguous.
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def week_bounds(iso_week: str, tz: tzinfo | str) -> tuple[datetime, datetime]:
    """(start, end) in UTC of the ISO week in `tz`: [Monday 00:00, next Monday 00:00)."""
    monday = monday_of(iso_week)
    tz = zone(tz)
    return _local_midnight_utc(monday, tz), _local_midnight_utc(monday + timedelta(days=7), tz)


def shift_week(iso_week: str, weeks: int) -> str:
    return _week_of_date(monday_of(iso_week) + timedelta(weeks=weeks))


def weeks_between(start_week: str, end_week: str) -> list[str]:
    """Every ISO week from start_week to end_week, both included (empty if start > end)."""
    first, last = monday_of(start_week), monday_of(end_week)
    count = (last - first).days // 7 + 1
    return [_week_of_date(first + timedelta(weeks=n)) for n in range(max(count, 0))]


def week_ranges(start_week: str, end_week: str, tz: tzinfo | str) -> list[WeekRange]:
    tz = zone(tz)
    return [WeekRange(week, *week_bounds(week, tz)) for week in weeks_between(start_week, end_week)]


def is_closed(iso_week: str, tz: tzinfo | str, *, now: datetime) -> bool:
    """A week is closed once its end has passed: its incidents' detection times are final."""
    return week_bounds(iso_week, tz)[1] <= now
