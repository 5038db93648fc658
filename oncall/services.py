"""Writes for the oncall app: schedules with their layers, overrides, feed secrets, profiles.

Every rule about what makes a schedule valid lives here, once; the API and the HTML forms only
parse input into the values below; a refusal is ``core.errors.FieldErrors`` (keyed like DRF
serializer errors, layers by their index in the input: ``{"layers": {1: {...}}}``), which the
API answers as a 400 and the HTML forms show on their fields.
Handoff notices are in ``oncall.handoff``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import available_timezones

from django.db import transaction

from core.errors import FieldErrors
from oncall import rotation
from oncall.models import (
    Layer,
    LayerParticipant,
    Membership,
    Override,
    Schedule,
    Team,
    UserProfile,
)

DEFAULT_HANDOFF_NOTICE_SECONDS = 30 * 60
MAX_HANDOFF_NOTICE_SECONDS = 7 * 24 * 3600
# A longer rotation step would overflow the date arithmetic (and no team rotates that slowly).
MAX_ROTATION_EVERY = 10_000


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    """An IANA zone name known to tzdata (checked against the list, never used as a path)."""
    return isinstance(name, str) and name in _zones()


def hash_token(token: str) -> str:
    """Feed secrets are stored as SHA-256 so a leaked database does not leak calendar URLs."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- schedules -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestrictionSpec:
    days: tuple[int, ...]
    start: time
    end: time


@dataclass(frozen=True)
class LayerSpec:
    """One layer as given by a user; ``handoff_start`` and ``end`` are naive local times."""

    name: str
    participants: tuple  # User instances, in rotation order
    unit: str
    every: int
    handoff_start: datetime
    restrictions: tuple[RestrictionSpec, ...] = ()
    end: datetime | None = None


def _layer_errors(team: Team, layers: list[LayerSpec]) -> list[dict]:
    member_ids = set(
        Membership.objects.filter(
            team=team, user_id__in=[u.pk for spec in layers for u in spec.participants]
        ).values_list("user_id", flat=True)
    )
    seen_names: set[str] = set()
    all_errors = []
    for spec in layers:
        errors: dict[str, list[str]] = {}
        name = (spec.name or "").strip()
        if not name:
            errors["name"] = ["A layer needs a name."]
        elif len(name) > 200:
            errors["name"] = ["At most 200 characters."]
        elif name.lower() in seen_names or name == rotation.OVERRIDE_SOURCE:
            errors["name"] = [f"Layer names must be unique and not {rotation.OVERRIDE_SOURCE!r}."]
        seen_names.add(name.lower())
        if not spec.participants:
            errors["participants"] = ["A layer needs at least one participant."]
        outsiders = [u.get_username() for u in spec.participants if u.pk not in member_ids]
        if outsiders:
            errors["participants"] = [
                f"Not a member of team {team.slug!r}: {', '.join(sorted(set(outsiders)))}."
            ]
        if spec.unit not in rotation.UNITS:
            errors["rotation"] = [f"unit must be one of {', '.join(rotation.UNITS)}."]
        elif isinstance(spec.every, bool) or not isinstance(spec.every, int) or spec.every < 1:
            errors["rotation"] = ["every must be a whole number of at least 1."]
        elif spec.every > MAX_ROTATION_EVERY:
            errors["rotation"] = [f"every must be at most {MAX_ROTATION_EVERY}."]
        if spec.handoff_start.tzinfo is not None:
            errors["handoff_start"] = ["Give a local wall-clock time without a UTC offset."]
        if spec.end is not None and spec.end.tzinfo is not None:
            errors["end"] = ["Give a local wall-clock time without a UTC offset."]
        elif spec.end is not None and spec.end <= spec.handoff_start:
            errors["end"] = ["The layer must end after its first handoff."]
        for restriction in spec.restrictions:
            if not restriction.days or any(d not in range(7) for d in restriction.days):
                errors["restrictions"] = ["days must be a non-empty list of weekdays."]
            elif restriction.start == restriction.end:
                errors["restrictions"] = [
                    "start and end are equal; omit restrictions to be on call around the clock."
                ]
        if not errors:
            try:
                _to_rotation_layer(spec)
            except ValueError as exc:  # any rule the pure module adds later
                errors["non_field_errors"] = [str(exc)]
        all_errors.append(errors)
    return all_errors


def _to_rotation_layer(spec: LayerSpec) -> rotation.Layer:
    return rotation.Layer(
        spec.name,
        tuple(u.get_username() for u in spec.participants),
        rotation.Rotation(spec.unit, spec.every),
        spec.handoff_start,
        tuple(rotation.Restriction(frozenset(r.days), r.start, r.end) for r in spec.restrictions),
        spec.end,
    )


def rotation_layers(layers: list[LayerSpec]) -> tuple[rotation.Layer, ...]:
    """The pure rotation values of checked layers (``schedule_check`` passed), highest priority
    first: what the schedule editor's preview computes with before anything is saved."""
    return tuple(_to_rotation_layer(spec) for spec in layers)


def schedule_check(
    *,
    team: Team,
    name: str,
    time_zone: str,
    layers: list[LayerSpec] | None,
    handoff_notice_seconds: int = DEFAULT_HANDOFF_NOTICE_SECONDS,
) -> None:
    """Raise ``FieldErrors`` for what ``schedule_create`` / ``schedule_update`` would refuse,
    writing nothing: the editor's preview judges unsaved input by the same rules as saving."""
    _check_schedule(
        team=team,
        name=name,
        time_zone=time_zone,
        handoff_notice_seconds=handoff_notice_seconds,
        layers=layers,
    )


def _check_schedule(
    *, team: Team, name: str, time_zone: str, handoff_notice_seconds: int, layers
) -> None:
    errors: dict = {}
    if not (name or "").strip():
        errors["name"] = ["A schedule needs a name."]
    elif len(name) > 200:
        errors["name"] = ["At most 200 characters."]
    if not is_time_zone(time_zone):
        errors["time_zone"] = [f"Unknown IANA time zone {time_zone!r} (e.g. 'Europe/Berlin')."]
    if not 0 <= handoff_notice_seconds <= MAX_HANDOFF_NOTICE_SECONDS:
        errors["handoff_notice_seconds"] = [
            f"Must be between 0 (off) and {MAX_HANDOFF_NOTICE_SECONDS} seconds."
        ]
    if layers is not None:
        layer_errors = _layer_errors(team, layers)
        if any(layer_errors):
            errors["layers"] = {index: found for index, found in enumerate(layer_errors) if found}
    if errors:
        raise FieldErrors(errors)


def _restriction_json(restriction: RestrictionSpec) -> dict:
    return {
        "days": sorted(set(restriction.days)),
        "start": restriction.start.strftime("%H:%M"),
        "end": restriction.end.strftime("%H:%M"),
    }


def _replace_layers(schedule: Schedule, layers: list[LayerSpec]) -> None:
    schedule.layers.all().delete()
    created = Layer.objects.bulk_create(
        [
            Layer(
                schedule=schedule,
                name=spec.name.strip(),
                position=position,
                rotation_unit=spec.unit,
                rotation_every=spec.every,
                handoff_date=spec.handoff_start.date(),
                handoff_time=spec.handoff_start.time(),
                restrictions=[_restriction_json(r) for r in spec.restrictions],
                end_date=spec.end.date() if spec.end else None,
                end_time=spec.end.time() if spec.end else None,
            )
            for position, spec in enumerate(layers)
        ]
    )
    LayerParticipant.objects.bulk_create(
        [
            LayerParticipant(layer=layer, user=user, position=position)
            for layer, spec in zip(created, layers, strict=True)
            for position, user in enumerate(spec.participants)
        ]
    )


@transaction.atomic
def schedule_create(
    *,
    team: Team,
    name: str,
    time_zone: str,
    layers: list[LayerSpec],
    handoff_notice_seconds: int = DEFAULT_HANDOFF_NOTICE_SECONDS,
) -> Schedule:
    """Create a schedule with its layers; the first layer has the highest priority."""
    _check_schedule(
        team=team,
        name=name,
        time_zone=time_zone,
        handoff_notice_seconds=handoff_notice_seconds,
        layers=layers,
    )
    schedule = Schedule.objects.create(
        team=team,
        name=name.strip(),
        time_zone=time_zone,
        handoff_notice_seconds=handoff_notice_seconds,
    )
    _replace_layers(schedule, layers)
    return schedule


@transaction.atomic
def schedule_update(
    *,
    schedule: Schedule,
    name: str | None = None,
    time_zone: str | None = None,
    handoff_notice_seconds: int | None = None,
    layers: list[LayerSpec] | None = None,
) -> Schedule:
    """Change what is given; ``layers`` replaces all layers (new priorities from the order)."""
    schedule = Schedule.objects.select_for_update().get(pk=schedule.pk)
    name = schedule.name if name is None else name
    time_zone = schedule.time_zone if time_zone is None else time_zone
    if handoff_notice_seconds is None:
        handoff_notice_seconds = schedule.handoff_notice_seconds
    _check_schedule(
        team=schedule.team,
        name=name,
        time_zone=time_zone,
        handoff_notice_seconds=handoff_notice_seconds,
        layers=layers,
    )
    schedule.name = name.strip()
    schedule.time_zone = time_zone
    schedule.handoff_notice_seconds = handoff_notice_seconds
    schedule.save(update_fields=["name", "time_zone", "handoff_notice_seconds"])
    if layers is not None:
        _replace_layers(schedule, layers)
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    schedule.delete()


def schedule_ical_rotate(*, schedule: Schedule) -> str:
    """A new secret for the schedule's feed; the old URL stops working. Returns the token,
    which is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    Schedule.objects.filter(pk=schedule.pk).update(ical_token_hash=hash_token(token))
    schedule.ical_token_hash = hash_token(token)
    return token


# --- overrides -------------------------------------------------------------------------------


def override_create(
    *,
    schedule: Schedule,
    user,
    start: datetime,
    end: datetime,
    replaces=None,
    created_by=None,
) -> Override:
    """``user`` covers [start, end) (only where ``replaces`` is on call, if given). Overlapping
    overrides are allowed; the latest created wins where they overlap."""
    errors: dict[str, list[str]] = {}
    for key, value in (("start", start), ("end", end)):
        if value.tzinfo is None or value.utcoffset() is None:
            errors[key] = ["Give a time with a UTC offset (e.g. 2026-03-29T09:00:00+02:00)."]
    if not errors and end <= start:
        errors["end"] = ["The override must end after it starts."]
    member_ids = set(
        Membership.objects.filter(
            team_id=schedule.team_id, user_id__in=[u.pk for u in (user, replaces) if u]
        ).values_list("user_id", flat=True)
    )
    if user.pk not in member_ids:
        errors["user"] = [f"{user.get_username()} is not a member of this schedule's team."]
    if replaces is not None:
        if replaces.pk == user.pk:
            errors["replaces"] = ["Someone cannot replace themselves."]
        elif replaces.pk not in member_ids:
            errors["replaces"] = [
                f"{replaces.get_username()} is not a member of this schedule's team."
            ]
    if errors:
        raise FieldErrors(errors)
    return Override.objects.create(
        schedule=schedule,
        user=user,
        start=start,
        end=end,
        replaces=replaces,
        created_by=created_by,
    )


def override_delete(*, override: Override) -> None:
    override.delete()


# --- profiles --------------------------------------------------------------------------------


def profile_for(*, user) -> UserProfile:
    """The user's profile, created with defaults the first time anyone needs it."""
    profile, _ = UserProfile.objects.get_or_create(user=user)
    return profile


def profile_update(*, user, time_zone: str) -> UserProfile:
    if not is_time_zone(time_zone):
        raise FieldErrors({"time_zone": [f"Unknown IANA time zone {time_zone!r}."]})
    profile = profile_for(user=user)
    profile.time_zone = time_zone
    profile.save(update_fields=["time_zone"])
    return profile


def user_ical_rotate(*, user) -> str:
    """A new secret for the user's personal feed (all their shifts); the old URL stops working."""
    token = secrets.token_urlsafe(32)
    profile = profile_for(user=user)
    profile.ical_token_hash = hash_token(token)
    profile.save(update_fields=["ical_token_hash"])
    return token
