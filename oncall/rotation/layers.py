"""One layer on its own: who its rotation puts on call, clipped to its windows and its end.

A layer hands off every ``step`` of wall-clock time from ``handoff_start``, cycling through its
participants. This module walks that rotation over a window (:func:`layer_shifts`, and
:func:`layer_pieces` for the sweep in :mod:`oncall.rotation.effective`) and answers for a single
instant in constant time (:func:`layer_state`), both honouring the layer's restriction windows
(:mod:`oncall.rotation.restrictions`) and its end. How layers combine with each other and with
overrides is not decided here.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from oncall.rotation import Layer, Shift
from oncall.rotation.restrictions import Window, restriction_windows
from oncall.rotation.wallclock import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    require_range,
    resolve,
    wall_time,
)

# Only layer_shifts is public API; the rest are helpers for oncall.rotation.effective.
__all__ = ["layer_shifts"]

_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time()

# Internal interval representation: (start, end, user). Tuples rather than Shift objects keep
# the year-long sweeps cheap; they are wrapped into Shift only at the public boundary.
Piece = tuple[datetime, datetime, str]


def layer_shifts(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """Shifts of one layer clipped to ``[start, end)``, its restriction windows and its end.

    One shift is split into several pieces when restriction windows cut it; pieces are sorted
    and never merged, so each one maps back to exactly one handoff.
    """
    start, end = require_range(start, end, "window")
    return [Shift(user, s, e, layer.name) for s, e, user in layer_pieces(layer, tz, start, end)]


def locate_shift(
    layer: Layer, tz: ZoneInfo, at: datetime, at_local: datetime
) -> tuple[int, datetime | None, datetime]:
    """Index ``k`` and bounds of the layer shift containing ``at`` (restrictions ignored).

    Returns ``(-1, None, first_handoff)`` before the first handoff. Handoff ``k`` is at wall
    time ``handoff_start + k * step``; counting whole steps up to the wall time of ``at`` gives a
    handoff that cannot be after ``at`` because :func:`~oncall.rotation.wallclock.to_utc` is
    monotonic. Only when ``at`` is in the second pass of a repeated hour (or when handoffs
    collapse in a gap) can the next handoff also have happened already, hence the loop, which
    runs at most once in practice.
    """
    step = layer.rotation.step
    index = max((at_local - layer.handoff_start) // step, -1)
    next_local = layer.handoff_start + step * (index + 1)
    next_start = resolve(next_local, tz)
    shift_start: datetime | None = None
    while next_start <= at:
        index += 1
        shift_start = next_start
        next_local += step
        next_start = resolve(next_local, tz)
    if index < 0:
        return -1, None, next_start
    if shift_start is None:
        shift_start = resolve(next_local - step, tz)
    return index, shift_start, next_start


def _clip_to_windows(pieces: list[Piece], windows: list[Window]) -> list[Piece]:
    """Intersect sorted disjoint pieces with sorted disjoint windows (two-pointer walk)."""
    clipped: list[Piece] = []
    first_window = 0
    for piece_start, piece_end, user in pieces:
        while first_window < len(windows) and windows[first_window][1] <= piece_start:
            first_window += 1
        index = first_window
        while index < len(windows) and windows[index][0] < piece_end:
            clipped_start = max(piece_start, windows[index][0])
            clipped_end = min(piece_end, windows[index][1])
            if clipped_start < clipped_end:
                clipped.append((clipped_start, clipped_end, user))
            index += 1
    return clipped


def layer_pieces(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[Piece]:
    """Non-empty on-call pieces of ``layer`` within ``[start, end)`` (UTC bounds), sorted."""
    if layer.end is not None:
        end = min(end, resolve(layer.end, tz))
        if end <= start:
            return []
    step = layer.rotation.step
    participants = layer.participants
    start_local = wall_time(start, tz)
    index, shift_start, shift_end = locate_shift(layer, tz, start, start_local)
    if shift_start is None:
        index, shift_start = 0, shift_end
        shift_end = resolve(layer.handoff_start + step, tz)
    next_local = layer.handoff_start + step * (index + 1)

    pieces: list[Piece] = []
    while shift_start < end:
        if shift_start < shift_end:
            user = participants[index % len(participants)]
            pieces.append((max(shift_start, start), min(shift_end, end), user))
        index += 1
        next_local += step
        shift_start, shift_end = shift_end, resolve(next_local, tz)

    if layer.restrictions:
        # A window that crosses midnight may start the local day before `start`, and in a
        # repeated hour at midnight the day after `end` can already have begun.
        first_day = start_local.date() - _ONE_DAY
        last_day = wall_time(end, tz).date() + _ONE_DAY
        windows = restriction_windows(layer.restrictions, first_day, last_day, tz)
        pieces = _clip_to_windows(pieces, windows)
    return pieces


def layer_state(
    layer: Layer, tz: ZoneInfo, at: datetime, at_local: datetime
) -> tuple[str | None, datetime, datetime]:
    """Who ``layer`` has on call at ``at`` (None for nobody) and an interval around ``at`` in
    which that stays true. The interval may be shorter than the truth, never longer."""
    layer_end = END_OF_TIME
    if layer.end is not None:
        layer_end = resolve(layer.end, tz)
        if at >= layer_end:
            return None, layer_end, END_OF_TIME

    low, high = BEGINNING_OF_TIME, layer_end
    if layer.restrictions:
        # Windows starting on local days d-2..d+1 decide coverage exactly between local
        # midnight of d-1 and of d+2: earlier windows end by then, later ones start after.
        day = at_local.date()
        low = resolve(datetime.combine(day - _ONE_DAY, _MIDNIGHT), tz)
        high = min(high, resolve(datetime.combine(day + 2 * _ONE_DAY, _MIDNIGHT), tz))
        windows = restriction_windows(layer.restrictions, day - 2 * _ONE_DAY, day + _ONE_DAY, tz)
        inside = False
        for window_start, window_end in windows:
            if window_end <= at:
                low = max(low, window_end)
            elif window_start > at:
                high = min(high, window_start)
                break
            else:
                low, high, inside = max(low, window_start), min(high, window_end), True
                break
        if not inside:
            return None, low, high

    index, shift_start, shift_end = locate_shift(layer, tz, at, at_local)
    if shift_start is None:
        return None, BEGINNING_OF_TIME, shift_end
    user = layer.participants[index % len(layer.participants)]
    return user, max(low, shift_start), min(high, shift_end)
