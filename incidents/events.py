"""One keyword-only function per timeline event type. Each appends the event and folds it
into the incident row (the projection) in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from incidents import projection
from incidents.alerts import AlertEvent
from incidents.models import EventKind, Incident, IncidentEvent, Service


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _append(
    incident: Incident,
    kind: str,
    *,
    at: datetime,
    data: dict | None = None,
    actor=None,
    actor_label: str = "",
    save: bool = True,
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
    event.save()
    state = projection.apply(projection.state_of(incident), event)
    for name in projection.FIELDS:
        setattr(incident, name, getattr(state, name))
    if save:
        incident.save(update_fields=list(projection.FIELDS))
    return event


def incident_triggered(
    *, service: Service, dedup_key: str, title: str, severity: str, at: datetime, source: str
) -> Incident:
    """Open a new incident. Raises IntegrityError if one is already open for the key."""
    data = {"title": title, "severity": severity, "dedup_key": dedup_key, "source": source}
    first = IncidentEvent(seq=1, kind=EventKind.TRIGGERED, at=at, data=data)
    state = projection.apply(projection.IncidentState(), first)
    fields = {name: getattr(state, name) for name in projection.FIELDS}
    fields["last_seq"] = 0
    with transaction.atomic():
        incident = Incident.objects.create(service=service, **fields)
        _append(incident, EventKind.TRIGGERED, at=at, data=data, actor_label=source)
    return incident


def alert_fired(
    *, incident: Incident, alert: AlertEvent, at: datetime, refire: bool, save: bool = True
) -> IncidentEvent:
    data = {
        "fingerprint": alert.fingerprint,
        "title": alert.title,
        "starts_at": _iso(alert.starts_at),
        "refire": refire,
    }
    return _append(
        incident, EventKind.ALERT_FIRED, at=at, data=data, actor_label=alert.source, save=save
    )


def alert_resolved(
    *, incident: Incident, alert: AlertEvent, at: datetime, save: bool = True
) -> IncidentEvent:
    data = {"fingerprint": alert.fingerprint, "title": alert.title, "ends_at": _iso(alert.ends_at)}
    return _append(
        incident, EventKind.ALERT_RESOLVED, at=at, data=data, actor_label=alert.source, save=save
    )


def sender_truncated(
    *, incident: Incident, count: int, at: datetime, source: str, save: bool = True
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.SENDER_TRUNCATED,
        at=at,
        data={"count": count},
        actor_label=source,
        save=save,
    )


def incident_resolved(
    *,
    incident: Incident,
    at: datetime,
    reason: str,
    actor=None,
    actor_label: str = "",
    save: bool = True,
) -> IncidentEvent:
    return _append(
        incident,
        EventKind.RESOLVED,
        at=at,
        data={"reason": reason},
        actor=actor,
        actor_label=actor_label,
        save=save,
    )


def incident_acknowledged(
    *, incident: Incident, at: datetime, actor=None, actor_label: str = "", save: bool = True
) -> IncidentEvent:
    return _append(
        incident, EventKind.ACKNOWLEDGED, at=at, actor=actor, actor_label=actor_label, save=save
    )


def note_added(*, incident: Incident, at: datetime, text: str, actor=None) -> IncidentEvent:
    return _append(incident, EventKind.NOTE, at=at, data={"text": text}, actor=actor)
