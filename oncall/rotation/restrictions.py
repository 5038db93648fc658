"""Restriction windows: when a restricted layer may page anyone, as sorted UTC intervals.

A :class:`~oncall.rotation.Restriction` is a weekly local-time window ("weekdays 09:00-17:00",
"Friday 22:00 to Saturday 06:00"). Turning it into instants is the other DST-sensitive step
besides handoffs, so it is kept apart from the rotation walk in :mod:`oncall.rotation.layers`,
which clips a layer's shifts to these windows.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.rotation import Restriction
from oncall.rotation.wallclock import resolve

_ONE_DAY = timedelta(days=1)

Window = tuple[datetime, datetime]


def restriction_windows(
    restrictions: tuple[Restriction, ...], first_day: date, last_day: date, tz: ZoneInfo
) -> list[Window]:
    """Union of the windows starting on local days ``first_day..last_day``, sorted, as UTC.

    Each window is resolved on its own local day, so "09:00-17:00" is 09:00-17:00 on the wall
    clock on both sides of a DST change. Overlapping or touching windows are merged so that a
    layer covered by two back-to-back windows yields one piece, not two.
    """
    windows: list[Window] = []
    day = first_day
    while day <= last_day:
        weekday = day.weekday()
        for restriction in restrictions:
            if weekday not in restriction.days:
                continue
            end_day = day + _ONE_DAY if restriction.end < restriction.start else day
            window_start = resolve(datetime.combine(day, restriction.start), tz)
            window_end = resolve(datetime.combine(end_day, restriction.end), tz)
            if window_start < window_end:
                windows.append((window_start, window_end))
        day += _ONE_DAY
    windows.sort()
    merged: list[Window] = []
    for window_start, window_end in windows:
        if merged and window_start <= merged[-1][1]:
            if window_end > merged[-1][1]:
                merged[-1] = (merged[-1][0], window_end)
        else:
            merged.append((window_start, window_end))
    return merged
