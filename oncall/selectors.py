"""Reads for the oncall app: teams, schedules, and who is on call.

This is the ONE place where schedule rows become the plain values of ``oncall.rotation``
(``ScheduleSpec``). Everything that asks "who is on call" (pages, API, iCal feeds, handoff
notices, escalation, the dashboard) loads specs here with a constant number of queries and then
runs the pure functions; nothing else re-implements the mapping.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import CharField, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from oncall import permissions, rotation
from oncall.models import Layer, LayerParticipant, Override, Schedule, Team, UserProfile
from oncall.rotation.effective import final_shifts, gaps, oncall_at

# "Soon" for coverage gaps and upcoming shifts on pages and the dashboard.
SOON = timedelta(days=14)
# Overrides this far around an instant are loaded when computing who is on call then; the
# returned shift is trimmed to this horizon so it never claims more than was looked at.
ONCALL_HORIZON = timedelta(days=14)
# How far shift edges are followed outside a requested window to report a shift's real start
# and end (iCal UIDs and "on call until" must not depend on where the window was cut).
SHIFT_REACH = timedelta(days=366)
_FIRST_PAD = timedelta(days=7)


def teams_for(user) -> QuerySet[Team]:
    """Teams a user may see: their own, or all of them for staff."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(memberships__user=user)


def managed_teams(user) -> QuerySet[Team]:
    """Teams whose configuration (schedules, policies, maintenance, drills) and audit log the
    user may see and change: those they manage, or all of them for staff, as
    `permissions.can_manage` answers team by team. The one "teams this user manages" query."""
    if not user.is_authenticated:
        return Team.objects.none()
    if user.is_staff:
        return Team.objects.all()
    return Team.objects.filter(
        memberships__user=user, memberships__role__in=permissions.MANAGING_ROLES
    )


# --- schedules ---------------------------------------------------------------------------------


def schedules_for(user) -> QuerySet[Schedule]:
    return Schedule.objects.filter(team__in=teams_for(user)).select_related("team")


def schedule_for(user, schedule_id: int) -> Schedule:
    """A schedule the user may see; raises Schedule.DoesNotExist otherwise (-> 404)."""
    return schedules_for(user).get(pk=schedule_id)


def with_layers(schedules: QuerySet[Schedule]) -> QuerySet[Schedule]:
    """Prefetch layers and their participants (in rotation order) in two extra queries."""
    participants = LayerParticipant.objects.select_related("user").order_by("position")
    return schedules.prefetch_related(
        Prefetch(
            "layers",
            queryset=Layer.objects.order_by("position").prefetch_related(
                Prefetch("memberships", queryset=participants)
            ),
        )
    )


def override_list(
    schedule: Schedule, *, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[Override]:
    """Overrides of a schedule overlapping [start, end) (either side open when None)."""
    overrides = Override.objects.filter(schedule=schedule).select_related(
        "user", "replaces", "created_by"
    )
    if start is not None:
        overrides = overrides.filter(end__gt=start)
    if end is not None:
        overrides = overrides.filter(start__lt=end)
    return overrides.order_by("start", "id")


def profile_time_zone(user) -> str:
    """The user's zone without creating a profile (readers must not write)."""
    zone = UserProfile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return zone or "UTC"


# --- models -> rotation values -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScheduleSpec:
    """A schedule as the pure rotation functions see it (participants are usernames)."""

    schedule_id: int
    tz: ZoneInfo
    layers: tuple[rotation.Layer, ...]
    overrides: tuple[rotation.Override, ...]


def parse_restrictions(raw: list[dict]) -> tuple[rotation.Restriction, ...]:
    """Restriction values for the stored JSON list."""
    return tuple(
        rotation.Restriction(
            frozenset(item["days"]),
            time.fromisoformat(item["start"]),
            time.fromisoformat(item["end"]),
        )
        for item in raw
    )


@lru_cache(maxsize=1024)
def _restrictions_from_text(text: str) -> tuple[rotation.Restriction, ...]:
    """Schedules share a handful of distinct window sets: parse each once per process (a memo
    of a pure function of the stored text, so it can never be stale)."""
    return parse_restrictions(json.loads(text)) if text and text != "[]" else ()


@lru_cache(maxsize=20_000)
def _layer(
    participants: tuple[str, ...],
    name: str,
    unit: str,
    every: int,
    h_date: str,
    h_time: str,
    raw: str,
    e_date: str | None,
    e_time: str | None,
) -> rotation.Layer:
    """A layer from its stored values (text as cast in SQL). Memoised on the values
    themselves, never on an id, so an edited layer simply misses the cache: nothing can go
    stale, and the dashboard's repeated "who is on call" skips re-validating every layer."""
    return rotation.Layer(
        name,
        participants,
        rotation.Rotation(unit, every),
        datetime.fromisoformat(f"{h_date}T{h_time}"),
        _restrictions_from_text(raw),
        datetime.fromisoformat(f"{e_date}T{e_time}") if e_date else None,
    )


def specs_for(
    schedules: QuerySet[Schedule] | list[int],
    *,
    overrides_start: datetime,
    overrides_end: datetime,
) -> dict[int, ScheduleSpec]:
    """Specs of many schedules in four queries, with the overrides overlapping the window.

    ``schedules`` may be a queryset (used as a subquery, never evaluated here: pass one rather
    than a long list of ids) or a short list of ids.
    """
    is_query = isinstance(schedules, QuerySet)
    ids = schedules.order_by().values("id") if is_query else list(schedules)
    zones = dict(Schedule.objects.filter(id__in=ids).order_by().values_list("id", "time_zone"))

    names: dict[int, list[str]] = defaultdict(list)
    for layer_id, username in (
        LayerParticipant.objects.filter(layer__schedule_id__in=ids)
        .order_by("layer_id", "position")
        .values_list("layer_id", "user__username")
    ):
        names[layer_id].append(username)

    layers: dict[int, list[rotation.Layer]] = defaultdict(list)
    # Dates, times and JSON come back as text (cast in SQL, same on SQLite and PostgreSQL):
    # the ORM's per-value converters cost more than the rotation maths for 1,000 schedules.
    as_text = {
        "h_date": Cast("handoff_date", CharField()),
        "h_time": Cast("handoff_time", CharField()),
        "raw": Cast("restrictions", TextField()),
        "e_date": Cast("end_date", CharField()),
        "e_time": Cast("end_time", CharField()),
    }
    for row in (
        Layer.objects.filter(schedule_id__in=ids)
        .order_by("schedule_id", "position")
        .annotate(**as_text)
        .values_list("id", "schedule_id", "name", "rotation_unit", "rotation_every", *as_text)
    ):
        layer_id, schedule_id, *values = row
        participants = tuple(names[layer_id])
        if participants:  # a layer whose every participant was deleted has nobody on call
            layers[schedule_id].append(_layer(participants, *values))

    overrides: dict[int, list[rotation.Override]] = defaultdict(list)
    for schedule_id, override_id, username, start, end, replaces in (
        Override.objects.filter(
            schedule_id__in=ids, start__lt=overrides_end, end__gt=overrides_start
        )
        .order_by("id")
        .values_list("schedule_id", "id", "user__username", "start", "end", "replaces__username")
    ):
        overrides[schedule_id].append(
            rotation.Override(username, start, end, replaces, override_id)
        )

    return {
        schedule_id: ScheduleSpec(
            schedule_id,
            ZoneInfo(zone),
            tuple(layers[schedule_id]),
            tuple(overrides[schedule_id]),
        )
        for schedule_id, zone in zones.items()
    }


def spec_for(schedule: Schedule | int, *, start: datetime, end: datetime) -> ScheduleSpec:
    schedule_id = schedule if isinstance(schedule, int) else schedule.pk
    return specs_for([schedule_id], overrides_start=start, overrides_end=end)[schedule_id]


# --- who is on call ----------------------------------------------------------------------------


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(UTC)


def final_shifts_of(spec: ScheduleSpec, start: datetime, end: datetime) -> list[rotation.Shift]:
    return final_shifts(spec.layers, spec.overrides, spec.tz, start, end)


def unclipped_shifts_of(spec: ScheduleSpec, start: datetime, end: datetime) -> list[rotation.Shift]:
    """Final shifts overlapping [start, end) with their true start and end.

    ``final_shifts`` cuts shifts at the window; here the window grows (doubling) while a shift
    touches its edge, up to ``SHIFT_REACH`` beyond it. ``spec`` must hold the overrides of
    [start - SHIFT_REACH, end + SHIFT_REACH).
    """
    low, high, pad = start, end, _FIRST_PAD
    while True:
        shifts = final_shifts_of(spec, low, high)
        grow_low = bool(shifts) and shifts[0].start == low and low > start - SHIFT_REACH
        grow_high = bool(shifts) and shifts[-1].end == high and high < end + SHIFT_REACH
        grow_low = grow_low and shifts[0].end >= start
        grow_high = grow_high and shifts[-1].start <= end
        if not (grow_low or grow_high):
            break
        if grow_low:
            low = max(start - SHIFT_REACH, low - pad)
        if grow_high:
            high = min(end + SHIFT_REACH, high + pad)
        pad *= 2
    return [shift for shift in shifts if shift.end > start and shift.start < end]


def schedule_shifts(
    schedule: Schedule | int, *, start: datetime, end: datetime, unclipped: bool = False
) -> list[rotation.Shift]:
    """Final (merged) shifts of one schedule in [start, end); cut at the window unless
    ``unclipped``, in which case each keeps its real start and end."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if not unclipped:
        return final_shifts_of(spec_for(schedule, start=start, end=end), start, end)
    spec = spec_for(schedule, start=start - SHIFT_REACH, end=end + SHIFT_REACH)
    return unclipped_shifts_of(spec, start, end)


def schedule_gaps(
    schedule: Schedule | int, *, start: datetime, end: datetime
) -> list[rotation.Gap]:
    start, end = _aware(start, "start"), _aware(end, "end")
    spec = spec_for(schedule, start=start, end=end)
    return gaps(spec.layers, spec.overrides, spec.tz, start, end)


def schedule_oncall(schedule: Schedule | int, *, at: datetime) -> rotation.Shift | None:
    """The merged final shift containing ``at`` (real start and end, within SHIFT_REACH)."""
    at = _aware(at, "at")
    shifts = schedule_shifts(schedule, start=at, end=at + timedelta(microseconds=1), unclipped=True)
    return shifts[0] if shifts else None


def oncall_at_many(schedules: QuerySet[Schedule] | list[int], at: datetime) -> dict:
    """``{schedule_id: Shift | None}`` at ``at`` for many schedules, in four queries.

    Each shift is the responsible piece from ``oncall_at`` trimmed to
    ``at ± ONCALL_HORIZON``: it may end earlier than the merged shift on the schedule page,
    never later than the truth.
    """
    at = _aware(at, "at")
    low, high = at - ONCALL_HORIZON, at + ONCALL_HORIZON
    result: dict[int, rotation.Shift | None] = {}
    for schedule_id, spec in specs_for(schedules, overrides_start=low, overrides_end=high).items():
        shift = oncall_at(spec.layers, spec.overrides, spec.tz, at)
        if shift is not None and (shift.start < low or shift.end > high):
            shift = rotation.Shift(
                shift.user, max(shift.start, low), min(shift.end, high), shift.source
            )
        result[schedule_id] = shift
    return result


def oncall_now(
    user, *, now: datetime | None = None
) -> list[tuple[Schedule, rotation.Shift | None]]:
    """For the dashboard: every schedule the user may see and who is on call on it now."""
    now = now or timezone.now()
    visible = schedules_for(user)
    schedules = list(visible)
    current = oncall_at_many(visible, now)
    return [(schedule, current.get(schedule.pk)) for schedule in schedules]


def oncall_users(*, schedule_id: int, at: datetime) -> list:
    """Who escalation should page for a schedule at ``at``: the final on-call user, as a list
    (room for several people later); empty in a coverage gap or when the schedule is gone.

    ``at`` must be timezone-aware (ValueError otherwise). Only overrides covering ``at`` are
    loaded: nothing else can change who is on call at that instant.
    """
    at = _aware(at, "at")
    specs = specs_for(
        [schedule_id], overrides_start=at, overrides_end=at + timedelta(microseconds=1)
    )
    spec = specs.get(schedule_id)
    if spec is None:
        return []
    shift = oncall_at(spec.layers, spec.overrides, spec.tz, at)
    if shift is None:
        return []
    return list(get_user_model().objects.filter(username=shift.user))


def gaps_soon(
    user, *, now: datetime | None = None, within: timedelta = SOON
) -> list[tuple[Schedule, list[rotation.Gap]]]:
    """Schedules the user may see that have nobody on call at some point in [now, now+within)."""
    now = _aware(now or timezone.now(), "now")
    end = now + within
    visible = schedules_for(user)
    schedules = list(visible)
    specs = specs_for(visible, overrides_start=now, overrides_end=end)
    flagged = []
    for schedule in schedules:
        spec = specs.get(schedule.pk)
        if spec is None:
            continue  # created between the two queries
        holes = gaps(spec.layers, spec.overrides, spec.tz, now, end)
        if holes:
            flagged.append((schedule, holes))
    return flagged


def user_shifts(
    user,
    *,
    start: datetime,
    end: datetime,
    schedule: Schedule | None = None,
) -> list[tuple[Schedule, rotation.Shift]]:
    """The user's own final shifts overlapping [start, end), with real starts and ends, on
    schedules of teams they belong to (staff see only their own teams here too)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if not user.is_authenticated:
        return []
    schedules = (
        Schedule.objects.filter(team__memberships__user=user)
        .filter(Q(layers__memberships__user=user) | Q(overrides__user=user))
        .select_related("team")
        .distinct()
    )
    if schedule is not None:
        schedules = schedules.filter(pk=schedule.pk)
    schedules = list(schedules)
    specs = specs_for(
        [s.pk for s in schedules],
        overrides_start=start - SHIFT_REACH,
        overrides_end=end + SHIFT_REACH,
    )
    mine = []
    for each in schedules:
        if each.pk not in specs:
            continue  # deleted between the two queries
        for shift in unclipped_shifts_of(specs[each.pk], start, end):
            if shift.user == user.get_username():
                mine.append((each, shift))
    mine.sort(key=lambda pair: (pair[1].start, pair[0].name))
    return mine


def upcoming_shifts(
    user, *, now: datetime | None = None, within: timedelta = SOON, schedule: Schedule | None = None
) -> list[tuple[Schedule, rotation.Shift]]:
    """The user's current and next shifts (ending after now, starting within ``within``)."""
    now = _aware(now or timezone.now(), "now")
    return user_shifts(user, start=now, end=now + within, schedule=schedule)


# iCal feeds cover this much of the past and the future.
FEED_PAST = timedelta(days=7)
FEED_FUTURE = timedelta(days=60)


def schedule_feed_shifts(schedule: Schedule | int, *, now: datetime) -> list[rotation.Shift]:
    """Final shifts for a schedule's calendar feed, with real starts (stable UIDs)."""
    return schedule_shifts(schedule, start=now - FEED_PAST, end=now + FEED_FUTURE, unclipped=True)


def user_feed_shifts(user, *, now: datetime) -> list[tuple[Schedule, rotation.Shift]]:
    """The user's own shifts, on every schedule of their teams, for their calendar feed."""
    return user_shifts(user, start=now - FEED_PAST, end=now + FEED_FUTURE)
