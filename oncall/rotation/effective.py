"""The effective schedule: layers stacked by priority, with overrides on top.

The first layer (highest priority) with someone on call wins; an override then takes over where
it applies (everywhere, or only where the person it ``replaces`` would be on call), the
highest-ranked override winning among overlapping ones. :func:`final_shifts` and :func:`gaps`
sweep a window for the merged result; :func:`oncall_at` answers for one instant without walking
the rotations. Everything per layer comes from :mod:`oncall.rotation.layers`.
"""

from __future__ import annotations

import bisect
from datetime import datetime
from zoneinfo import ZoneInfo

from oncall.rotation import OVERRIDE_SOURCE, Gap, Layer, Override, Shift
from oncall.rotation.layers import layer_pieces, layer_state
from oncall.rotation.wallclock import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    require_aware,
    require_range,
    wall_time,
)

__all__ = ["final_shifts", "gaps", "oncall_at"]


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
    start, end = require_range(start, end, "window")
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
    start, end = require_range(start, end, "window")
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
    at = require_aware(at, "at")
    at_local = wall_time(at, tz)

    layered_user: str | None = None
    layered_source = ""
    low, high = BEGINNING_OF_TIME, END_OF_TIME
    for layer in layers:
        user, state_low, state_high = layer_state(layer, tz, at, at_local)
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
    per_layer = [layer_pieces(layer, tz, start, end) for layer in layers]
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
