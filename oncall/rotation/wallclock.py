"""Local wall-clock times to UTC instants, and the checks every instant passes on the way in.

Everything in :mod:`oncall.rotation` that is DST-sensitive comes down to one question: which
instant does this naive local time denote in this zone? :func:`to_utc` answers it (including
times skipped by a spring-forward jump and times repeated by a fall-back), and :func:`resolve`
is the same without argument checks, for loops that only pass values they built.

The other names are package helpers shared by the value types and the maths: refusing naive
instants where an absolute time is needed (and aware ones where a wall-clock time is), and the
open ends used internally for "nobody on call since/until forever". This module imports nothing
from the rest of the package, so every other module can depend on it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

# Only to_utc is public API; the rest are helpers for the other modules of the package.
__all__ = ["to_utc"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
# Open ends for "nobody on call since/until forever"; never returned to callers.
BEGINNING_OF_TIME = datetime.min.replace(tzinfo=UTC)
END_OF_TIME = datetime.max.replace(tzinfo=UTC)


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Resolve a naive wall-clock time in ``tz`` to the UTC instant it denotes.

    Wall times skipped by a spring-forward jump resolve to the first instant after the jump
    (the transition itself), so a 02:30 handoff on that night happens as soon as the clock
    allows instead of an hour late. Wall times that occur twice (fall back) resolve to their
    first occurrence, so nothing is handed off "an hour later than it looked".
    """
    require_naive(local, "local time")
    return resolve(local, tz)


def require_naive(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"{what} must be a naive local datetime, got aware {value.isoformat()}")


def require_aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC; naive instants are refused because they mean nothing globally."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def require_range(start: datetime, end: datetime, what: str) -> tuple[datetime, datetime]:
    start = require_aware(start, f"{what} start")
    end = require_aware(end, f"{what} end")
    if start >= end:
        raise ValueError(
            f"{what} start ({start.isoformat()}) must be before its end ({end.isoformat()})"
        )
    return start, end


def wall_time(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def resolve(local: datetime, tz: ZoneInfo) -> datetime:
    """:func:`to_utc` without argument checks, for loops that only pass values they built.

    ``fold=0`` already yields the first occurrence of a repeated time; a time that does not
    survive the round trip back to the wall clock lies in a gap.
    """
    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if wall_time(instant, tz) == local:
        return instant
    return _end_of_gap(local, tz)


def _end_of_gap(local: datetime, tz: ZoneInfo) -> datetime:
    """The instant the clocks jumped over the non-existent wall time ``local``.

    Read with the pre-jump offset (``fold=0``) ``local`` lands after the jump, read with the
    post-jump offset (``fold=1``) it lands before it. Rather than assume the gap's length or
    alignment (Lord Howe jumps 30 minutes), bisect between the two for the first whole second
    whose wall time is past ``local``; tzdata transitions fall on whole seconds, so it is exact.
    """
    after = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    before = local.replace(tzinfo=tz, fold=1).astimezone(UTC)
    if before > after:
        before, after = after, before
    low = (before - _EPOCH) // _ONE_SECOND
    high = -((_EPOCH - after) // _ONE_SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if wall_time(_EPOCH + middle * _ONE_SECOND, tz) > local:
            high = middle
        else:
            low = middle
    return _EPOCH + high * _ONE_SECOND
