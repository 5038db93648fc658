"""The instants Pagerline accepts from users: beyond them, date arithmetic (a 14-day window, a
rotation, a shift to local time, a database's UTC conversion) overflows Python's datetime, so
callers refuse them with a clear error instead of failing with a 500."""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)  # far enough for any plan, far from datetime.max


def utc_instant(value: datetime) -> datetime | None:
    """An aware `value` in UTC, or None when it lies outside [EARLIEST, LATEST)."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:
        return None
    return utc if EARLIEST <= utc < LATEST else None
