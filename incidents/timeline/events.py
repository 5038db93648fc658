"""One keyword-only function per timeline event type. Each appends the event and folds it
into the incident row (the projection) in the caller's transaction.

Inside `buffered()` (the alert worker applying a batch of deliveries) the same functions
keep the events, new incidents and changed projections in memory, and `Buffer.write`
stores them with a few bulk statements; escalation hooks then run in order, with the rows
in place. Outside it, each event is written at once.

Who follows the timeline (escalation starts and stops with the lifecycle) registers itself
with `follow()` from `IncidentsConfig.ready()`: the timeline calls its followers without
importing them, so the imports run one way (escalation -> timeline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime

from django.db import transaction

from incidents.alerts import AlertEvent
from incidents.models import EventKind, Incident, IncidentEvent, Service
from incidents.timeline import projection

Appended = list[tuple[Incident, IncidentEvent]]
# A follower gets the events appended, in order, after they are stored, in the same
# transaction. `new` holds the ids of the incidents a batch created (None outside a batch,
# where each event is followed as it is appended).
Follower = Callable[[Appended, set[int] | None], None]
_followers: list[Follower] = []


def follow(follower: Follower) -> None:
    """Call `follower` for every appended event (once, however often this is called)."""
    if follower not in _followers:
        _followers.append(follower)


def _notify(appended: Appended, new: set[int] | None) -> None:
    for follower in _followers:
        follower(appended, new)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Buffer:
    """What a batch appended, not yet written: new incidents, events, changed incidents."""

    def __init__(self) -> None:
        self.new_incidents: list[Incident] = []
        self.events: list[IncidentEvent] = []
        self.changed: dict[int, Incident] = {}  # by id(): new incidents have no pk yet
        self.hooks: Appended = []

    def events_of(self, incident: Incident) -> Iterator[IncidentEvent]:
        """This incident's buffered events, newest first."""
        return (e for e in reversed(self.events) if e.incident is incident)

    def write(self) -> None:
        """Store everything in the caller's transaction. Existing incidents are updated
        before new ones are inserted: a key resolved and opened again in one batch must
        not look like two open incidents to the one-open-per-key constraint."""
        new = {id(incident) for incident in self.new_incidents}
        existing = [i for key, i in self.changed.items() if key not in new]
        if existing:
            Incident.objects.bulk_update(existing, list(projection.FIELDS))
        if self.new_incidents:
            Incident.objects.bulk_create(self.new_incidents)
        if self.events:
            IncidentEvent.objects.bulk_create(self.events)

    def run_hooks(self) -> None:
        """The followers (escalation) follow the events, in the order they happened; their
        own events are written at once (the buffer is no longer in use)."""
        hooks, self.hooks = self.hooks, []
        _notify(hooks, {incident.pk for incident in self.new_incidents})


_buffer: ContextVar[Buffer | None] = ContextVar("incident_event_buffer", default=None)


@contextmanager
def buffered() -> Iterator[Buffer]:
    """Keep appended events in memory until the caller writes the returned buffer."""
    buffer = Buffer()
    reset = _buffer.set(buffer)
    try:
        yield buffer
    finally:
        _buffer.reset(reset)


def _append(
    incident: Incident,
    kind: str,
    *,
    at: datetime,
    data: dict | None = None,
    actor=None,
    actor_label: str = "",
) -> IncidentEvent:
    event = IncidentEvent(
        incident=incident,
        seq=incident.last_seq + 1,
        kind=kind,
        at=at,
        actor=actor,
        actor_label=actor_label,
        data=data or {},
    )
    state = projection.apply(projection.state_of(incident), event)
    for name in projection.FIELDS:
        setattr(incident, name, getattr(state, name))
    buffer = _buffer.get()
    if buffer is not None:
        buffer.events.append(event)
        buffer.changed[id(incident)] = incident
        buffer.hooks.append((incident, event))
        return event
    event.save()
    incident.save(update_fields=list(projection.FIELDS))
    # Escalation follows the lifecycle (trigger, ack, resolve, reopen...): its writes join
    # this transaction and its tasks are enqueued on commit.
    _notify([(incident, event)], None)
    return event


def incident_triggered(
    *,
    service: Service,
    dedup_key: str,
    title: str,
    severity: str,
    at: datetime,
    source: str,
    actor=None,
    description: str = "",
    started_at: datetime | None = None,
) -> Incident:
    """Open a new incident. Raises IntegrityError if one is already open for the key
    (inside `buffered()`, when the buffer is written).

    A responder opening one by hand is the `actor`, with an optional description and the
    time they say impact began (`started_at`).
    """
    data = {"title": title, "severity": severity, "dedup_key": dedup_key, "source": source}
    if description:
        data["description"] = description
    if started_at is not None:
        data["started_at"] = _iso(started_at)
    first = IncidentEvent(seq=1, kind=EventKind.TRIGGERED, at=at, data=data)
    state = projection.apply(projection.IncidentState(), first)
    fields = {name: getattr(state, name) for name in projection.FIELDS}
    fields["last_seq"] = 0
    buffer = _buffer.get()
    with transaction.atomic() if buffer is None else nullcontext():
        incident = Incident(service=service, **fields)
        if buffer is None:
            incident.save(force_insert=True)
        else:
            buffer.new_incidents.append(incident)  # inserted by Buffer.write
        label = "" if actor else source
        _append(incident, EventKind.TRIGGERED, at=at, data=data, actor=actor, actor_label=label)
    return incident


def alert_fired(
    *,
    incident: Incident,
    alert: AlertEvent,
    at: datetime,
    refire: bool,
    fire_count: int = 1,
    flapping: bool = False,
) -> IncidentEvent:
    data = {
        "fingerprint": alert.fingerprint,
        "title": alert.title,
        "starts_at": _iso(alert.starts_at),
        "refire": refire,
    }
    if refire:
        data.update(fire_count=fire_count, flapping=flapping)
    return _append(incident, EventKind.ALERT_FIRED, at=at, data=data, actor_label=alert.source)


def alert_resolved(*, incident: Incident, alert: AlertEvent, at: datetime) -> IncidentEvent:
    data = {"fingerprint": alert.fingerprint, "title": alert.title, "ends_at": _iso(alert.ends_at)}
    return _append(incident, EventKind.ALERT_RESOLVED, at=at, data=data, actor_label=alert.source)


def sender_truncated(*, incident: Incident, count: int, at: datetime, source: str) -> IncidentEvent:
    return _append(
        incident,
        EventKind.SENDER_TRUNCATED,
        at=at,
        data={"count": count},
        actor_label=source,
    )


def clock_skew(
    *,
    incident: Incident,
    fingerprint: str,
    reported: datetime,
    at: datetime,
    source: str,
) -> IncidentEvent:
    """A sender reported a start time in the future; it was clamped to the receive time."""
    data = {
        "fingerprint": fingerprint,
        "reported_starts_at": _iso(reported),
        "clamped_to": _iso(at),
    }
    return _append(incident, EventKind.CLOCK_SKEW, at=at, data=data, actor_label=source)


def unrouted(*, incident: Incident, fingerprint: str, at: datetime, source: str) -> IncidentEvent:
    """The integration has routing rules and none matched: the default service took it."""
    return _append(
        incident,
        EventKind.UNROUTED,
        at=at,
        data={"fingerprint": fingerprint},
        actor_label=source,
    )


def source_action_ignored(
    *, incident: Incident, action: str, reason: str, at: datetime, source: str
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.SOURCE_ACTION_IGNORED,
        at=at,
        data={"action": action, "reason": reason},
        actor_label=source,
    )


def _via(via: str) -> dict:
    return {"via": via} if via else {}


def incident_resolved(
    *,
    incident: Incident,
    at: datetime,
    reason: str,
    actor=None,
    actor_label: str = "",
    via: str = "",
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.RESOLVED,
        at=at,
        data={"reason": reason, **_via(via)},
        actor=actor,
        actor_label=actor_label,
    )


def incident_reopened(
    *,
    incident: Incident,
    at: datetime,
    reason: str,
    actor=None,
    actor_label: str = "",
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.REOPENED,
        at=at,
        data={"reason": reason},
        actor=actor,
        actor_label=actor_label,
    )


def incident_acknowledged(
    *, incident: Incident, at: datetime, actor=None, actor_label: str = "", via: str = ""
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.ACKNOWLEDGED,
        at=at,
        data=_via(via),
        actor=actor,
        actor_label=actor_label,
    )


def note_added(
    *, incident: Incident, at: datetime, text: str, actor=None, actor_label: str = ""
) -> IncidentEvent:
    """`text` is the Markdown source; it is rendered (and sanitised) only for display."""
    return _append(
        incident, EventKind.NOTE, at=at, data={"text": text}, actor=actor, actor_label=actor_label
    )


def incident_unacknowledged(
    *, incident: Incident, at: datetime, actor=None, actor_label: str = "", via: str = ""
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.UNACKNOWLEDGED,
        at=at,
        data=_via(via),
        actor=actor,
        actor_label=actor_label,
    )


def severity_changed(
    *,
    incident: Incident,
    at: datetime,
    old: str,
    new: str,
    actor=None,
    actor_label: str = "",
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.SEVERITY_CHANGED,
        at=at,
        data={"from": old, "to": new},
        actor=actor,
        actor_label=actor_label,
    )


def incident_assigned(
    *,
    incident: Incident,
    at: datetime,
    assignee_id: int | None,
    assignee_name: str,
    actor=None,
    actor_label: str = "",
) -> IncidentEvent:
    """`assignee_id` None unassigns; the name is kept so the timeline reads well forever."""
    data = {
        "assignee_id": assignee_id,
        "assignee": assignee_name,
        "previous_id": incident.assignee_id,
    }
    return _append(
        incident, EventKind.ASSIGNED, at=at, data=data, actor=actor, actor_label=actor_label
    )


def impact_start_corrected(
    *,
    incident: Incident,
    at: datetime,
    impact_started_at: datetime,
    reason: str,
    actor=None,
    actor_label: str = "",
) -> IncidentEvent:
    data = {
        "impact_started_at": _iso(impact_started_at),
        "previous": _iso(incident.impact_started_at),
        "reason": reason,
    }
    return _append(
        incident,
        EventKind.IMPACT_START_CORRECTED,
        at=at,
        data=data,
        actor=actor,
        actor_label=actor_label,
    )


def drill_attached(
    *,
    incident: Incident,
    at: datetime,
    drill_id: int,
    drill_name: str,
    automatic: bool,
    actor=None,
) -> IncidentEvent:
    """The incident was counted as part of a failover drill (kept out of production figures)."""
    data = {"drill_id": drill_id, "drill_name": drill_name, "automatic": automatic}
    label = "" if actor else "drill"
    return _append(
        incident, EventKind.DRILL_ATTACHED, at=at, data=data, actor=actor, actor_label=label
    )


def drill_detached(
    *,
    incident: Incident,
    at: datetime,
    drill_id: int,
    drill_name: str,
    automatic: bool,
    actor=None,
) -> IncidentEvent:
    data = {"drill_id": drill_id, "drill_name": drill_name, "automatic": automatic}
    label = "" if actor else "drill"
    return _append(
        incident, EventKind.DRILL_DETACHED, at=at, data=data, actor=actor, actor_label=label
    )


def escalated(
    *, incident: Incident, at: datetime, step: int, round: int, targets: list[str], summary: str
) -> IncidentEvent:
    """A step of the escalation fired; `targets` are the usernames it paged."""
    data = {"step": step, "round": round, "targets": targets, "summary": summary}
    return _append(incident, EventKind.ESCALATED, at=at, data=data, actor_label="escalation")


def escalation_warning(
    *, incident: Incident, at: datetime, summary: str, fallback: str | None
) -> IncidentEvent:
    """A step reached nobody (or not everyone); `fallback` is who was paged instead."""
    data = {"summary": summary, "fallback": fallback}
    return _append(
        incident, EventKind.ESCALATION_WARNING, at=at, data=data, actor_label="escalation"
    )


def escalation_exhausted(*, incident: Incident, at: datetime, summary: str) -> IncidentEvent:
    return _append(
        incident,
        EventKind.ESCALATION_EXHAUSTED,
        at=at,
        data={"summary": summary},
        actor_label="escalation",
    )


def in_maintenance(
    *, incident: Incident, at: datetime, window_id: int, reason: str, ends_at: datetime
) -> IncidentEvent:
    """Paging is held until the maintenance window ends; the incident itself goes on."""
    data = {
        "window_id": window_id,
        "reason": reason,
        "ends_at": _iso(ends_at),
        "summary": f"in maintenance until {ends_at:%Y-%m-%d %H:%M} UTC ({reason}): nobody paged",
    }
    return _append(incident, EventKind.IN_MAINTENANCE, at=at, data=data, actor_label="maintenance")
