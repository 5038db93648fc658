"""Pure helpers for weekly reports: changes against previous weeks, working hours and
number formats (ISO weeks are metrics.weeks). No database, no Django."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

WORK_START_HOUR = 8
WORK_END_HOUR = 18


def weighted_mean(pairs: Iterable[tuple[int, float | None]]) -> float | None:
    """Mean of several weekly means, each weighted by how many incidents it counts."""
    total = count = 0
    for n, mean in pairs:
        if n and mean is not None:
            total += n * mean
            count += n
    return total / count if count else None


def change_percent(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent, one decimal; None when either side is missing or zero."""
    if current is None or not previous:
        return None
    return round((current - previous) / previous * 100, 1)


def is_off_hours(instant: datetime, time_zone: str) -> bool:
    """Outside 08:00-18:00 Monday to Friday, on the person's own wall clock."""
    local = instant.astimezone(ZoneInfo(time_zone))
    return local.weekday() >= 5 or not WORK_START_HOUR <= local.hour < WORK_END_HOUR


def fmt_duration(seconds: float | None) -> str:
    """Short human form for tables and emails: 45s, 12m 5s, 3h 4m, 2d 1h."""
    if seconds is None:
        return "—"
    sign = "-" if seconds < 0 else ""
    s = round(abs(seconds))
    if s < 60:
        return f"{sign}{s}s"
    if s < 3600:
        return f"{sign}{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{sign}{s // 3600}h {s % 3600 // 60}m"
    return f"{sign}{s // 86400}d {s % 86400 // 3600}h"


def fmt_change(percent: float | None) -> str:
    if percent is None:
        return "—"
    return f"{percent:+.1f}%"


def top(rows: Sequence[dict], *, keys: tuple[str, ...], limit: int) -> list[dict]:
    """The first `limit` rows by the given count keys (descending), ties by name; rows whose
    counts are all zero are left out."""
    busy = [r for r in rows if any(r[k] for k in keys)]
    return sorted(busy, key=lambda r: (*(-r[k] for k in keys), r["name"]))[:limit]
