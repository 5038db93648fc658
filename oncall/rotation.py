"""Pure schedule arithmetic: who is on call, from rotations, restrictions and overrides.

This module deliberately knows nothing about Django or the database. The rules that decide who
gets paged are subtle around daylight-saving changes, so they live in plain functions over frozen
values that can be tested exhaustively (tables across real transitions plus property tests) and
reused unchanged by the API, the notifier and calendar exports.

Conventions used throughout:

* Handoffs, restriction windows and layer ends are wall-clock concepts. They are given as naive
  local datetimes/times in the schedule's zone and resolved to instants with :func:`to_utc` one
  handoff or one local day at a time, so a 09:00 handoff stays at 09:00 through DST changes.
* Every instant passed to a public function must be timezone-aware and every instant returned is
  in UTC. Intervals are half-open: ``[start, end)``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "OVERRIDE_SOURCE",
    "UNITS",
    "Gap",
    "Layer",
    "Override",
    "Restriction",
    "Rotation",
    "Shift",
    "final_shifts",
    "gaps",
    "layer_shifts",
    "oncall_at",
    "to_utc",
]

OVERRIDE_SOURCE = "override"
UNITS = ("hours", "days", "weeks")

_UNIT_LENGTHS = {
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)
_MIDNIGHT = time()
# Open ends for "nobody on call since/until forever"; never returned to callers.
_BEGINNING_OF_TIME = datetime.min.replace(tzinfo=UTC)
_END_OF_TIME = datetime.max.replace(tzinfo=UTC)

# Internal interval representation: (start, end, user). Tuples rather than Shift objects keep
# the year-long sweeps cheap; they are wrapped into Shift only at the public boundary.
_Piece = tuple[datetime, datetime, str]


@dataclass(frozen=True, slots=True)
class Rotation:
    """How often a layer hands off: every ``every`` wall-clock ``unit`` (hours, days or weeks)."""

    unit: str
    every: int

    def __post_init__(self) -> None:
        if self.unit not in _UNIT_LENGTHS:
            raise ValueError(f"unknown rotation unit {self.unit!r}; expected one of {UNITS}")
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ValueError(f"rotation 'every' must be an integer >= 1, got {self.every!r}")

    @property
    def step(self) -> timedelta:
        """Wall-clock distance between handoffs; naive arithmetic makes days/weeks DST-proof."""
        return _UNIT_LENGTHS[self.unit] * self.every


@dataclass(frozen=True, slots=True)
class Restriction:
    """A weekly local-time window; ``days`` are the weekdays (0=Mon) on which a window starts.

    ``end < start`` means the window crosses midnight and ends on the following day, so
    ``Restriction({4}, time(22), time(6))`` is Friday 22:00 to Saturday 06:00.
    """

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        days = frozenset(self.days)
        if not days:
            raise ValueError("restriction needs at least one weekday")
        if any(isinstance(day, bool) or day not in range(7) for day in days):
            raise ValueError(f"restriction weekdays must be integers 0 (Mon) to 6 (Sun): {days}")
        object.__setattr__(self, "days", days)
        if self.start.tzinfo is not None or self.end.tzinfo is not None:
            raise ValueError("restriction times are local wall-clock times and must be naive")
        if self.start == self.end:
            raise ValueError(
                f"restriction start and end are both {self.start.isoformat()}; "
                "an empty window is almost certainly a mistake (omit restrictions for 24h)"
            )


@dataclass(frozen=True, slots=True)
class Layer:
    """One rotation of a schedule; ``handoff_start`` and ``end`` are naive local datetimes."""

    name: str
    participants: tuple[str, ...]
    rotation: Rotation
    handoff_start: datetime
    restrictions: tuple[Restriction, ...] = ()
    end: datetime | None = None

    def __post_init__(self) -> None:
        participants = tuple(self.participants)
        if not participants:
            raise ValueError(f"layer {self.name!r} has no participants")
        if not all(isinstance(user, str) and user for user in participants):
            raise ValueError(f"layer {self.name!r} participants must be non-empty strings")
        object.__setattr__(self, "participants", participants)
        object.__setattr__(self, "restrictions", tuple(self.restrictions))
        if not isinstance(self.rotation, Rotation):
            raise ValueError(f"layer {self.name!r} rotation must be a Rotation")
        if not all(isinstance(item, Restriction) for item in self.restrictions):
            raise ValueError(f"layer {self.name!r} restrictions must be Restriction values")
        _require_naive(self.handoff_start, f"layer {self.name!r} handoff_start")
        if self.end is not None:
            _require_naive(self.end, f"layer {self.name!r} end")
            if self.end <= self.handoff_start:
                raise ValueError(
                    f"layer {self.name!r} ends ({self.end.isoformat()}) at or before its first "
                    f"handoff ({self.handoff_start.isoformat()})"
                )


@dataclass(frozen=True, slots=True)
class Override:
    """``user`` covers ``[start, end)``, optionally only where ``replaces`` would be on call.

    ``start``/``end`` are normalised to UTC on creation (equality is by instant either way).
    Among overlapping applicable overrides the highest ``created_order`` wins; on a tie the one
    later in the sequence passed to the functions wins, so the outcome never depends on luck.
    """

    user: str
    start: datetime
    end: datetime
    replaces: str | None = None
    created_order: int = 0

    def __post_init__(self) -> None:
        start, end = _require_range(self.start, self.end, "override")
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


@dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call over ``[start, end)`` (UTC); ``source`` is a layer name or "override"."""

    user: str
    start: datetime
    end: datetime
    source: str


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval ``[start, end)`` (UTC) with nobody on call."""

    start: datetime
    end: datetime


def to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    """Resolve a naive wall-clock time in ``tz`` to the UTC instant it denotes.

    Wall times skipped by a spring-forward jump resolve to the first instant after the jump
    (the transition itself), so a 02:30 handoff on that night happens as soon as the clock
    allows instead of an hour late. Wall times that occur twice (fall back) resolve to their
    first occurrence, so nothing is handed off "an hour later than it looked".
    """
    _require_naive(local, "local time")
    return _resolve(local, tz)


def layer_shifts(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[Shift]:
    """Shifts of one layer clipped to ``[start, end)``, its restriction windows and its end.

    One shift is split into several pieces when restriction windows cut it; pieces are sorted
    and never merged, so each one maps back to exactly one handoff.
    """
    start, end = _require_range(start, end, "window")
    return [Shift(user, s, e, layer.name) for s, e, user in _layer_pieces(layer, tz, start, end)]


def final_shifts(
    layers: list[Layer] | tuple[Layer, ...],
    overrides: list[Override] | tuple[Override, ...],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[Shift]:
    """The effective schedule over ``[start, end)``: sorted, non-overlapping shifts.

    Adjacent pieces with the same user and source are merged, so a person covering two
    consecutive handoffs of a single-person layer shows up as one shift.
    """
    start, end = _require_range(start, end, "window")
    return [
        Shift(user, s, e, source)
        for user, s, e, source in _final_pieces(layers, overrides, tz, start, end)
    ]


def gaps(
    layers: list[Layer] | tuple[Layer, ...],
    overrides: list[Override] | tuple[Override, ...],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[Gap]:
    """Maximal intervals within ``[start, end)`` where nobody is on call."""
    start, end = _require_range(start, end, "window")
    holes: list[Gap] = []
    cursor = start
    for _, piece_start, piece_end, _ in _final_pieces(layers, overrides, tz, start, end):
        if piece_start > cursor:
            holes.append(Gap(cursor, piece_start))
        cursor = piece_end
    if cursor < end:
        holes.append(Gap(cursor, end))
    return holes


def oncall_at(
    layers: list[Layer] | tuple[Layer, ...],
    overrides: list[Override] | tuple[Override, ...],
    tz: ZoneInfo,
    at: datetime,
) -> Shift | None:
    """The shift covering ``at`` in the effective schedule, or None when nobody is on call.

    The returned interval always contains ``at`` and never claims more than is true: the same
    person and source hold throughout it. It is the responsible layer shift (or override),
    trimmed where something nearby could change the outcome (a higher-priority layer's window,
    another override's boundary), so it can be shorter than the merged shift ``final_shifts``
    would report. It is computed in constant time per layer, without walking the rotation.
    """
    at = _require_aware(at, "at")
    at_local = _wall_time(at, tz)

    layered_user: str | None = None
    layered_source = ""
    low, high = _BEGINNING_OF_TIME, _END_OF_TIME
    for layer in layers:
        user, state_low, state_high = _layer_state(layer, tz, at, at_local)
        low, high = max(low, state_low), min(high, state_high)
        if user is not None:
            layered_user, layered_source = user, layer.name
            break
    # Within [low, high) every layer down to the winning one keeps its state, so the layered
    # result (which replacement overrides depend on) is constant there.

    winner: Override | None = None
    winner_rank = (0, -1)
    for index, override in enumerate(overrides):
        if override.start <= at < override.end and (
            override.replaces is None or override.replaces == layered_user
        ):
            rank = (override.created_order, index)
            if winner is None or rank > winner_rank:
                winner, winner_rank = override, rank

    if winner is None:
        if layered_user is None:
            return None
        for override in overrides:
            # Overrides covering `at` here are replacements of someone else; they stay
            # inapplicable while the layered result is unchanged, i.e. within [low, high).
            if at < override.start:
                high = min(high, override.start)
            elif at >= override.end:
                low = max(low, override.end)
        return Shift(layered_user, low, high, layered_source)

    depends_on_layers = winner.replaces is not None
    layered_low, layered_high = low, high
    low, high = winner.start, winner.end
    for index, override in enumerate(overrides):
        if (override.created_order, index) <= winner_rank:
            continue
        if at < override.start:
            high = min(high, override.start)
        elif at >= override.end:
            low = max(low, override.end)
        else:
            # A higher-ranked replacement that does not apply yet could apply as soon as the
            # layered result changes.
            depends_on_layers = True
    if depends_on_layers:
        low, high = max(low, layered_low), min(high, layered_high)
    return Shift(winner.user, low, high, OVERRIDE_SOURCE)


# --- internals -------------------------------------------------------------------------------


def _require_naive(value: datetime, what: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is not None:
        raise ValueError(f"{what} must be a naive local datetime, got aware {value.isoformat()}")


def _require_aware(value: datetime, what: str) -> datetime:
    """Return ``value`` in UTC; naive instants are refused because they mean nothing globally."""
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def _require_range(start: datetime, end: datetime, what: str) -> tuple[datetime, datetime]:
    start = _require_aware(start, f"{what} start")
    end = _require_aware(end, f"{what} end")
    if start >= end:
        raise ValueError(
            f"{what} start ({start.isoformat()}) must be before its end ({end.isoformat()})"
        )
    return start, end


def _wall_time(instant: datetime, tz: ZoneInfo) -> datetime:
    return instant.astimezone(tz).replace(tzinfo=None)


def _resolve(local: datetime, tz: ZoneInfo) -> datetime:
    """:func:`to_utc` without argument checks, for loops that only pass values they built.

    ``fold=0`` already yields the first occurrence of a repeated time; a time that does not
    survive the round trip back to the wall clock lies in a gap.
    """
    instant = local.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if _wall_time(instant, tz) == local:
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
        if _wall_time(_EPOCH + middle * _ONE_SECOND, tz) > local:
            high = middle
        else:
            low = middle
    return _EPOCH + high * _ONE_SECOND


def _locate_shift(
    layer: Layer, tz: ZoneInfo, at: datetime, at_local: datetime
) -> tuple[int, datetime | None, datetime]:
    """Index ``k`` and bounds of the layer shift containing ``at`` (restrictions ignored).

    Returns ``(-1, None, first_handoff)`` before the first handoff. Handoff ``k`` is at wall
    time ``handoff_start + k * step``; counting whole steps up to the wall time of ``at`` gives a
    handoff that cannot be after ``at`` because :func:`to_utc` is monotonic. Only when ``at`` is
    in the second pass of a repeated hour (or when handoffs collapse in a gap) can the next
    handoff also have happened already, hence the loop, which runs at most once in practice.
    """
    step = layer.rotation.step
    index = max((at_local - layer.handoff_start) // step, -1)
    next_local = layer.handoff_start + step * (index + 1)
    next_start = _resolve(next_local, tz)
    shift_start: datetime | None = None
    while next_start <= at:
        index += 1
        shift_start = next_start
        next_local += step
        next_start = _resolve(next_local, tz)
    if index < 0:
        return -1, None, next_start
    if shift_start is None:
        shift_start = _resolve(next_local - step, tz)
    return index, shift_start, next_start


def _restriction_windows(
    restrictions: tuple[Restriction, ...], first_day: date, last_day: date, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Union of the windows starting on local days ``first_day..last_day``, sorted, as UTC.

    Each window is resolved on its own local day, so "09:00-17:00" is 09:00-17:00 on the wall
    clock on both sides of a DST change. Overlapping or touching windows are merged so that a
    layer covered by two back-to-back windows yields one piece, not two.
    """
    windows: list[tuple[datetime, datetime]] = []
    day = first_day
    while day <= last_day:
        weekday = day.weekday()
        for restriction in restrictions:
            if weekday not in restriction.days:
                continue
            end_day = day + _ONE_DAY if restriction.end < restriction.start else day
            window_start = _resolve(datetime.combine(day, restriction.start), tz)
            window_end = _resolve(datetime.combine(end_day, restriction.end), tz)
            if window_start < window_end:
                windows.append((window_start, window_end))
        day += _ONE_DAY
    windows.sort()
    merged: list[tuple[datetime, datetime]] = []
    for window_start, window_end in windows:
        if merged and window_start <= merged[-1][1]:
            if window_end > merged[-1][1]:
                merged[-1] = (merged[-1][0], window_end)
        else:
            merged.append((window_start, window_end))
    return merged


def _clip_to_windows(
    pieces: list[_Piece], windows: list[tuple[datetime, datetime]]
) -> list[_Piece]:
    """Intersect sorted disjoint pieces with sorted disjoint windows (two-pointer walk)."""
    clipped: list[_Piece] = []
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


def _layer_pieces(layer: Layer, tz: ZoneInfo, start: datetime, end: datetime) -> list[_Piece]:
    """Non-empty on-call pieces of ``layer`` within ``[start, end)`` (UTC bounds), sorted."""
    if layer.end is not None:
        end = min(end, _resolve(layer.end, tz))
        if end <= start:
            return []
    step = layer.rotation.step
    participants = layer.participants
    start_local = _wall_time(start, tz)
    index, shift_start, shift_end = _locate_shift(layer, tz, start, start_local)
    if shift_start is None:
        index, shift_start = 0, shift_end
        shift_end = _resolve(layer.handoff_start + step, tz)
    next_local = layer.handoff_start + step * (index + 1)

    pieces: list[_Piece] = []
    while shift_start < end:
        if shift_start < shift_end:
            user = participants[index % len(participants)]
            pieces.append((max(shift_start, start), min(shift_end, end), user))
        index += 1
        next_local += step
        shift_start, shift_end = shift_end, _resolve(next_local, tz)

    if layer.restrictions:
        # A window that crosses midnight may start the local day before `start`, and in a
        # repeated hour at midnight the day after `end` can already have begun.
        first_day = start_local.date() - _ONE_DAY
        last_day = _wall_time(end, tz).date() + _ONE_DAY
        windows = _restriction_windows(layer.restrictions, first_day, last_day, tz)
        pieces = _clip_to_windows(pieces, windows)
    return pieces


def _layer_state(
    layer: Layer, tz: ZoneInfo, at: datetime, at_local: datetime
) -> tuple[str | None, datetime, datetime]:
    """Who ``layer`` has on call at ``at`` (None for nobody) and an interval around ``at`` in
    which that stays true. The interval may be shorter than the truth, never longer."""
    layer_end = _END_OF_TIME
    if layer.end is not None:
        layer_end = _resolve(layer.end, tz)
        if at >= layer_end:
            return None, layer_end, _END_OF_TIME

    low, high = _BEGINNING_OF_TIME, layer_end
    if layer.restrictions:
        # Windows starting on local days d-2..d+1 decide coverage exactly between local
        # midnight of d-1 and of d+2: earlier windows end by then, later ones start after.
        day = at_local.date()
        low = _resolve(datetime.combine(day - _ONE_DAY, _MIDNIGHT), tz)
        high = min(high, _resolve(datetime.combine(day + 2 * _ONE_DAY, _MIDNIGHT), tz))
        windows = _restriction_windows(layer.restrictions, day - 2 * _ONE_DAY, day + _ONE_DAY, tz)
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

    index, shift_start, shift_end = _locate_shift(layer, tz, at, at_local)
    if shift_start is None:
        return None, _BEGINNING_OF_TIME, shift_end
    user = layer.participants[index % len(layer.participants)]
    return user, max(low, shift_start), min(high, shift_end)


def _final_pieces(
    layers: list[Layer] | tuple[Layer, ...],
    overrides: list[Override] | tuple[Override, ...],
    tz: ZoneInfo,
    start: datetime,
    end: datetime,
) -> list[list]:
    """Merged ``[user, start, end, source]`` entries of the effective schedule (UTC bounds).

    Sweeps the sorted union of all piece and override boundaries: between two consecutive
    boundaries nothing changes, so each elementary interval is decided once. Per-layer cursors
    only move forward and the active overrides are kept sorted by rank, so the sweep costs
    O(n log n) plus the (small) number of overrides overlapping at any one time.
    """
    per_layer = [_layer_pieces(layer, tz, start, end) for layer in layers]
    names = [layer.name for layer in layers]
    pending = sorted(
        (
            (
                max(override.start, start),
                min(override.end, end),
                (override.created_order, index),
                override.user,
                override.replaces,
            )
            for index, override in enumerate(overrides)
            if override.start < end and override.end > start
        ),
        key=lambda entry: entry[0],
    )

    boundaries = {start, end}
    for pieces in per_layer:
        for piece_start, piece_end, _ in pieces:
            boundaries.add(piece_start)
            boundaries.add(piece_end)
    for override_start, override_end, *_ in pending:
        boundaries.add(override_start)
        boundaries.add(override_end)
    ordered = sorted(boundaries)

    cursors = [0] * len(per_layer)
    next_pending = 0
    active: list[tuple] = []  # (rank, end, user, replaces), ascending rank
    merged: list[list] = []
    for position in range(len(ordered) - 1):
        segment_start, segment_end = ordered[position], ordered[position + 1]
        user: str | None = None
        source = ""
        for layer_index, pieces in enumerate(per_layer):
            cursor = cursors[layer_index]
            while cursor < len(pieces) and pieces[cursor][1] <= segment_start:
                cursor += 1
            cursors[layer_index] = cursor
            if cursor < len(pieces) and pieces[cursor][0] <= segment_start:
                user, source = pieces[cursor][2], names[layer_index]
                break

        while next_pending < len(pending) and pending[next_pending][0] <= segment_start:
            _, override_end, rank, override_user, replaces = pending[next_pending]
            bisect.insort(active, (rank, override_end, override_user, replaces))
            next_pending += 1
        if active:
            active = [entry for entry in active if entry[1] > segment_start]
            layered_user = user
            for _, _, override_user, replaces in reversed(active):
                if replaces is None or replaces == layered_user:
                    user, source = override_user, OVERRIDE_SOURCE
                    break

        if user is None:
            continue
        last = merged[-1] if merged else None
        if last and last[2] == segment_start and last[0] == user and last[3] == source:
            last[2] = segment_end
            continue
        merged.append([user, segment_start, segment_end, source])
    return merged
