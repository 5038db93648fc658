"""An escalation policy as a client sends it (API JSON, or the policy page's form turned into
the same shape), checked for shape and ranges. Pure: no Django, no database. Whether the
users and schedules exist in the policy's team is checked by incidents.escalation.policies.

Errors name the field the way a client wrote it: `steps[1].targets[0].user`.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import FieldErrors
from core.text import NUL_MESSAGE, has_nul

MAX_NAME_LENGTH = 200
MAX_REPEAT = 100
MAX_DELAY_SECONDS = 7 * 86400
MAX_STEPS = 50
MAX_TARGETS = 50
# No row has a larger id (bigint); a larger number would overflow the database's lookup.
MAX_ID = 2**63 - 1
FIELDS = ("name", "repeat", "fallback_user", "steps")


@dataclass(frozen=True)
class TargetInput:
    """A username, or a schedule id."""

    user: str | None = None
    schedule: int | None = None


@dataclass(frozen=True)
class StepInput:
    delay_seconds: int
    targets: tuple[TargetInput, ...]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def parse(values: dict[str, object]) -> dict[str, object]:
    """Typed copies of the given fields (any of FIELDS); raises FieldErrors naming every
    refused field. `fallback_user` may be None; the others may not."""
    errors: dict[str, str] = {}
    parsed: dict[str, object] = {}
    for field, value in values.items():
        if field == "name":
            if not isinstance(value, str) or not value.strip():
                errors["name"] = "Required: a non-empty string."
            elif has_nul(value):
                errors["name"] = NUL_MESSAGE
            elif len(value.strip()) > MAX_NAME_LENGTH:
                errors["name"] = f"At most {MAX_NAME_LENGTH} characters."
            else:
                parsed["name"] = value.strip()
        elif field == "repeat":
            if not _is_int(value) or not 0 <= value <= MAX_REPEAT:
                errors["repeat"] = f"Expected a whole number from 0 to {MAX_REPEAT}."
            else:
                parsed["repeat"] = value
        elif field == "fallback_user":
            if value is None or value == "":
                parsed["fallback_user"] = None
            elif not isinstance(value, str):
                errors["fallback_user"] = "Expected a username, or null."
            elif has_nul(value):
                errors["fallback_user"] = NUL_MESSAGE
            else:
                parsed["fallback_user"] = value
        elif field == "steps":
            steps = _steps(value, errors)
            if steps is not None:
                parsed["steps"] = steps
        else:
            errors[field] = "Unknown field."
    if errors:
        raise FieldErrors(errors)
    return parsed


def _steps(value: object, errors: dict[str, str]) -> tuple[StepInput, ...] | None:
    if not isinstance(value, list):
        errors["steps"] = "Expected a list of steps."
        return None
    if not value:
        errors["steps"] = "Add at least one step."
        return None
    if len(value) > MAX_STEPS:
        errors["steps"] = f"At most {MAX_STEPS} steps."
        return None
    before = len(errors)
    steps = [_step(f"steps[{i}]", raw, errors) for i, raw in enumerate(value)]
    if len(errors) > before:
        return None
    return tuple(steps)


def _step(where: str, raw: object, errors: dict[str, str]) -> StepInput | None:
    if not isinstance(raw, dict):
        errors[where] = "Expected an object with delay_seconds and targets."
        return None
    delay = raw.get("delay_seconds", 0)
    if not _is_int(delay) or not 0 <= delay <= MAX_DELAY_SECONDS:
        errors[f"{where}.delay_seconds"] = (
            f"Expected a whole number of seconds from 0 to {MAX_DELAY_SECONDS}."
        )
    targets = raw.get("targets")
    if not isinstance(targets, list):
        errors[f"{where}.targets"] = "Expected a list of targets."
        return None
    if not targets:
        errors[f"{where}.targets"] = "Add at least one target (a user or a schedule)."
        return None
    if len(targets) > MAX_TARGETS:
        errors[f"{where}.targets"] = f"At most {MAX_TARGETS} targets per step."
        return None
    parsed: list[TargetInput] = []
    for j, target in enumerate(targets):
        item = _target(f"{where}.targets[{j}]", target, errors)
        if item is None:
            continue
        if item in parsed:
            errors[f"{where}.targets[{j}]"] = "Already a target of this step."
        parsed.append(item)
    if not _is_int(delay):
        return None
    return StepInput(delay_seconds=delay, targets=tuple(parsed))


def _target(where: str, raw: object, errors: dict[str, str]) -> TargetInput | None:
    if not isinstance(raw, dict):
        errors[where] = 'Expected {"user": username} or {"schedule": schedule id}.'
        return None
    user, schedule = raw.get("user"), raw.get("schedule")
    if (user is None) == (schedule is None):
        errors[where] = 'Give exactly one of "user" and "schedule".'
        return None
    if user is not None:
        if not isinstance(user, str) or not user:
            errors[f"{where}.user"] = "Expected a username."
            return None
        if has_nul(user):
            errors[f"{where}.user"] = NUL_MESSAGE
            return None
        return TargetInput(user=user)
    if not _is_int(schedule) or not 1 <= schedule <= MAX_ID:
        errors[f"{where}.schedule"] = "Expected a schedule id."
        return None
    return TargetInput(schedule=schedule)


def delay_label(seconds: int) -> str:
    """How a step's wait reads on a page: "at once", "after 90 s", "after 5 min", "after 2 h"."""
    if seconds <= 0:
        return "at once"
    if seconds % 3600 == 0:
        return f"after {seconds // 3600} h"
    if seconds % 60 == 0:
        return f"after {seconds // 60} min"
    return f"after {seconds} s"
