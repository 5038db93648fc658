"""The schedule editor's form: posted fields -> service arguments, and refusals -> field names.

The editor page lets a manager add, remove and reorder layers, participants and restriction
windows in the browser, so its fields are not a fixed Django form. Each layer has a key chosen
by the page (``layer=<key>`` in page order, then ``layer-<key>-name``, ...), each restriction a
key within its layer. This module only parses (formats, numbers, usernames that exist) into
``services.LayerSpec``; what makes a schedule valid is decided by ``services.schedule_check``
(the same rules the API's writes go through), whose ``FieldErrors`` are mapped back here onto
the names of the inputs they belong to, so the page shows each message next to its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import BadRequest

from core.errors import FieldErrors
from core.text import NUL_MESSAGE, has_nul
from oncall import rotation, services
from oncall.forms import WallClockField
from oncall.models import Schedule

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MAX_LAYERS = 20
MAX_PARTICIPANTS = 100
MAX_RESTRICTIONS = 14
_KEY = re.compile(r"^[A-Za-z0-9]{1,12}$")
# Where a service's per-layer message goes: the input it is about.
_LAYER_FIELDS = {
    "name": "name",
    "participants": "participants",
    "rotation": "every",
    "handoff_start": "handoff",
    "end": "end",
    "restrictions": "restrictions",
}
_SCHEDULE_FIELDS = {"name": "name", "time_zone": "time_zone"}
FORM_ERRORS = "__all__"
_DAY_VALUES = {str(day) for day in range(7)}
_STAND_IN = datetime(2000, 1, 3, 9, 0)


@dataclass
class RestrictionState:
    key: str
    days: list[int] = field(default_factory=list)
    start: str = "09:00"
    end: str = "17:00"
    errors: dict[str, list[str]] = field(default_factory=dict)  # by field, for the page


@dataclass
class LayerState:
    """One layer as the page shows it: the text as typed, so a refused form comes back as sent."""

    key: str
    name: str = ""
    participants: list[str] = field(default_factory=list)
    unit: str = "weeks"
    every: str = "1"
    handoff: str = ""
    end: str = ""
    restrictions: list[RestrictionState] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)  # by field ("layer": its own)


@dataclass
class EditorState:
    name: str = ""
    time_zone: str = "UTC"
    handoff_notice_minutes: str = "30"
    layers: list[LayerState] = field(default_factory=list)


@dataclass
class Parsed:
    """What a post holds: its state, the service arguments, and the messages by input name."""

    state: EditorState
    layers: list[services.LayerSpec]
    layer_keys: list[str]  # the key of each entry of ``layers``
    handoff_notice_seconds: int | None
    errors: dict[str, list[str]]


def _wall(text: str) -> str:
    return text.strip().replace(" ", "T")[:16]


def state_of(schedule: Schedule) -> EditorState:
    """The editor's fields for a saved schedule (layers and participants prefetched)."""
    layers = []
    for number, layer in enumerate(schedule.layers.all()):
        layers.append(
            LayerState(
                key=str(number),
                name=layer.name,
                participants=[m.user.get_username() for m in layer.memberships.all()],
                unit=layer.rotation_unit,
                every=str(layer.rotation_every),
                handoff=datetime.combine(layer.handoff_date, layer.handoff_time).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                end=datetime.combine(layer.end_date, layer.end_time).strftime("%Y-%m-%dT%H:%M")
                if layer.end_date
                else "",
                restrictions=[
                    RestrictionState(str(index), list(item["days"]), item["start"], item["end"])
                    for index, item in enumerate(layer.restrictions)
                ],
            )
        )
    minutes = schedule.handoff_notice_seconds // 60
    return EditorState(schedule.name, schedule.time_zone, str(minutes), layers)


def _keys(data, name: str, limit: int) -> list[str]:
    keys = [key for key in data.getlist(name) if _KEY.match(key)]
    return list(dict.fromkeys(keys))[:limit]


def _days(data, name: str) -> list[int]:
    return sorted({int(day) for day in data.getlist(f"{name}-day") if day in _DAY_VALUES})


def _time(text: str) -> time | None:
    try:
        value = time.fromisoformat(text)
    except ValueError:
        return None
    return None if value.tzinfo is not None else value.replace(second=0, microsecond=0)


def _restriction(data, prefix: str, key: str, errors: dict) -> services.RestrictionSpec | None:
    """One restriction window; None (with its message) when it cannot be read."""
    name = f"{prefix}-restriction-{key}"
    state_days = _days(data, name)
    start_text = data.get(f"{name}-start", "").strip()
    end_text = data.get(f"{name}-end", "").strip()
    start, end = _time(start_text), _time(end_text)
    if start is None:
        errors[f"{name}-start"] = ["Enter a time like 09:00."]
    if end is None:
        errors[f"{name}-end"] = ["Enter a time like 17:00."]
    if not state_days:
        errors[f"{name}-days"] = ["Tick at least one day."]
    if start is None or end is None or not state_days:
        return None
    return services.RestrictionSpec(days=tuple(state_days), start=start, end=end)


def parse(data, *, members: dict) -> Parsed:
    """Read a posted editor form. ``members`` maps usernames to the team's users; a name that
    is not a user at all is refused here, one who is not a member by the service."""
    for key, values in data.lists():
        # Refused at once, as form_text does: no database stores a NUL in text.
        if any(has_nul(value) for value in values):
            raise BadRequest(f"{key}: {NUL_MESSAGE}")
    state = EditorState(
        name=data.get("name", ""),
        time_zone=data.get("time_zone", "").strip(),
        handoff_notice_minutes=data.get("handoff_notice_minutes", "30").strip(),
    )
    errors: dict[str, list[str]] = {}
    notice: int | None = None
    try:
        notice = int(state.handoff_notice_minutes) * 60
    except ValueError:
        errors["handoff_notice_minutes"] = ["Enter a whole number of minutes (0 turns it off)."]

    names = {
        name
        for key in _keys(data, "layer", MAX_LAYERS)
        for name in data.getlist(f"layer-{key}-participant")
        if name
    }
    users = dict(members)
    missing = names - set(users)
    if missing:
        users |= {
            u.get_username(): u for u in get_user_model().objects.filter(username__in=missing)
        }

    specs: list[services.LayerSpec] = []
    spec_keys: list[str] = []
    for key in _keys(data, "layer", MAX_LAYERS):
        prefix = f"layer-{key}"
        layer = LayerState(
            key=key,
            name=data.get(f"{prefix}-name", ""),
            participants=[n for n in data.getlist(f"{prefix}-participant") if n][:MAX_PARTICIPANTS],
            unit=data.get(f"{prefix}-unit", ""),
            every=data.get(f"{prefix}-every", "").strip(),
            handoff=_wall(data.get(f"{prefix}-handoff", "")),
            end=_wall(data.get(f"{prefix}-end", "")),
        )
        state.layers.append(layer)
        unknown = [name for name in layer.participants if name not in users]
        if unknown:
            errors[f"{prefix}-participants"] = [f"Unknown user: {', '.join(unknown)}."]
        every = None
        try:
            every = int(layer.every)
        except ValueError:
            errors[f"{prefix}-every"] = ["Enter a whole number of at least 1."]
        handoff = end = None
        try:
            handoff = WallClockField(required=True).clean(layer.handoff)
        except forms.ValidationError as exc:
            errors[f"{prefix}-handoff"] = list(exc.messages)
        try:
            end = WallClockField(required=False).clean(layer.end)
        except forms.ValidationError as exc:
            errors[f"{prefix}-end"] = list(exc.messages)
        if layer.unit not in rotation.UNITS:
            errors[f"{prefix}-unit"] = [f"Choose one of {', '.join(rotation.UNITS)}."]
        restrictions = []
        for r_key in _keys(data, f"{prefix}-restriction", MAX_RESTRICTIONS):
            name = f"{prefix}-restriction-{r_key}"
            layer.restrictions.append(
                RestrictionState(
                    r_key,
                    _days(data, name),
                    data.get(f"{name}-start", "").strip(),
                    data.get(f"{name}-end", "").strip(),
                )
            )
            restrictions.append(_restriction(data, prefix, r_key, errors))
        # A layer with unreadable fields is still checked by the service (with stand-ins for
        # what could not be read, whose messages the page drops), so every other mistake in it
        # is reported at once rather than after the first is fixed.
        spec_keys.append(key)
        specs.append(
            services.LayerSpec(
                name=layer.name,
                participants=tuple(users[name] for name in layer.participants if name in users),
                unit=layer.unit if layer.unit in rotation.UNITS else "days",
                every=1 if every is None else every,
                handoff_start=handoff or _STAND_IN,
                restrictions=tuple(item for item in restrictions if item is not None),
                end=end if handoff else None,
            )
        )
    return Parsed(state, specs, spec_keys, notice, errors)


def field_errors(exc: FieldErrors, layer_keys: list[str]) -> dict[str, list[str]]:
    """A service's refusal keyed by the editor's input names (layers by their key; the
    service numbers them by their place in the list it was given, ``layer_keys``)."""
    found: dict[str, list[str]] = {}
    for key, value in exc.errors.items():
        if key == "layers" and isinstance(value, dict):
            for index, layer_errors in value.items():
                layer_key = layer_keys[int(index)]
                for name, messages in layer_errors.items():
                    target = _LAYER_FIELDS.get(name)
                    found[f"layer-{layer_key}" + (f"-{target}" if target else "")] = messages
        elif key == "handoff_notice_seconds":  # the page asks for minutes
            most = services.MAX_HANDOFF_NOTICE_SECONDS // 60
            found["handoff_notice_minutes"] = [f"Must be between 0 (off) and {most} minutes."]
        elif key in _SCHEDULE_FIELDS:
            found[_SCHEDULE_FIELDS[key]] = value
        else:
            found.setdefault(FORM_ERRORS, []).extend(
                [f"{key}: {' '.join(value)}"] if isinstance(value, list) else [str(value)]
            )
    return found
