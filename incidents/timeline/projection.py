"""Fold an incident's events into its current state. Pure: the same code keeps the
incident row up to date as events are appended and rebuilds it from the log."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol


class EventLike(Protocol):
    seq: int
    kind: str
    at: datetime
    data: dict[str, Any]


@dataclass(frozen=True)
class IncidentState:
    status: str = ""
    title: str = ""
    severity: str = ""
    dedup_key: str = ""
    source_started_at: datetime | None = None
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    impact_corrected_at: datetime | None = None
    description: str = ""
    assignee_id: int | None = None
    last_seq: int = 0
    updated_at: datetime | None = None


FIELDS = tuple(IncidentState.__dataclass_fields__)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _impact_start(state: IncidentState) -> datetime | None:
    if state.impact_corrected_at is not None:
        return state.impact_corrected_at
    candidates = [t for t in (state.source_started_at, state.detected_at) if t is not None]
    return min(candidates) if candidates else None


def apply(state: IncidentState, event: EventLike) -> IncidentState:
    kind, at, data = event.kind, event.at, event.data
    changes: dict[str, Any] = {"last_seq": event.seq}
    if state.updated_at is None or at > state.updated_at:
        changes["updated_at"] = at
    if kind == "triggered":
        changes.update(
            status="triggered",
            title=data["title"],
            severity=data["severity"],
            dedup_key=data["dedup_key"],
            detected_at=at,
            # A manual incident carries the reporter's start time and a description.
            source_started_at=_parse(data.get("started_at")),
            description=data.get("description", ""),
        )
    elif kind == "alert_fired":
        started = _parse(data.get("starts_at"))
        if started and (state.source_started_at is None or started < state.source_started_at):
            changes["source_started_at"] = started
    elif kind == "acknowledged":
        changes["status"] = "acknowledged"
        if state.acknowledged_at is None:
            changes["acknowledged_at"] = at
    elif kind == "resolved":
        changes.update(status="resolved", resolved_at=at)
    elif kind == "reopened":
        # acknowledged_at stays: MTTA counts the first response, not the latest one.
        changes.update(status="triggered", resolved_at=None)
    elif kind == "unacknowledged":
        # A withdrawn acknowledgement no longer counts: the next one sets the time again.
        changes.update(status="triggered", acknowledged_at=None)
    elif kind == "severity_changed":
        changes["severity"] = data["to"]
    elif kind == "assigned":
        changes["assignee_id"] = data.get("assignee_id")
    elif kind == "impact_start_corrected":
        changes["impact_corrected_at"] = _parse(data["impact_started_at"])
    new = replace(state, **changes)
    return replace(new, impact_started_at=_impact_start(new))


def replay(events: Iterable[EventLike]) -> IncidentState:
    state = IncidentState()
    for event in events:
        state = apply(state, event)
    return state


def state_of(incident: object) -> IncidentState:
    return IncidentState(**{name: getattr(incident, name) for name in FIELDS})
