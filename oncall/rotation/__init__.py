"""Pure schedule arithmetic: who is on call, from rotations, restrictions and overrides.

This package deliberately knows nothing about Django or the database. The rules that decide who
gets paged are subtle around daylight-saving changes, so they live in plain functions over frozen
values that can be tested exhaustively (tables across real transitions plus property tests) and
reused unchanged by the API, the notifier and calendar exports.

This module holds the vocabulary every caller shares: the frozen values a schedule is described
with (``Rotation``, ``Restriction``, ``Layer``, ``Override``) and the ones the maths answers with
(``Shift``, ``Gap``), validated on creation. The maths itself lives in the submodules, which
import from here and from each other in one direction only::

    wallclock.py     naive local wall-clock times -> UTC instants (to_utc), argument checks
    restrictions.py  weekly restriction windows of a layer, resolved day by day to UTC
    layers.py        one layer on its own: its shifts (layer_shifts) and its state at an instant
    effective.py     layers stacked by priority with overrides on top: final_shifts, gaps,
                     oncall_at

Conventions used throughout:

* Handoffs, restriction windows and layer ends are wall-clock concepts. They are given as naive
  local datetimes/times in the schedule's zone and resolved to instants with
  :func:`~oncall.rotation.wallclock.to_utc` one handoff or one local day at a time, so a 09:00
  handoff stays at 09:00 through DST changes.
* Every instant passed to a public function must be timezone-aware and every instant returned is
  in UTC. Intervals are half-open: ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from oncall.rotation.wallclock import require_naive, require_range

__all__ = [
    "OVERRIDE_SOURCE",
    "UNITS",
    "Gap",
    "Layer",
    "Override",
    "Restriction",
    "Rotation",
    "Shift",
]

OVERRIDE_SOURCE = "override"
UNITS = ("hours", "days", "weeks")

_UNIT_LENGTHS = {
    "hours": timedelta(hours=1),
    "days": timedelta(days=1),
    "weeks": timedelta(weeks=1),
}


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
        require_naive(self.handoff_start, f"layer {self.name!r} handoff_start")
        if self.end is not None:
            require_naive(self.end, f"layer {self.name!r} end")
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
        start, end = require_range(self.start, self.end, "override")
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
