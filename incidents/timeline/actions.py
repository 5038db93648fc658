"""Responder actions: one service function per action, shared by the HTML views, the API
and source events, so each rule is written once.

Every action locks the incident row, checks the transition against the locked state (so
two people acknowledging at the same moment produce one acknowledgement), appends one
timeline event and folds it into the row, all in one transaction.

Who acted: a `user` (checked: responder or manager of the service's team), or for senders
and automation `user=None` with an `actor_label` ("pagerduty", "system"). `at` overrides
when it happened (default: now). A caller that already holds the row lock in its own
transaction (alert intake) passes the locked `incident` instead of `incident_id`, so it
keeps working with the instance the action updated.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import FieldErrors
from incidents.alerts import Severity
from incidents.models import (
    OPEN_STATUSES,
    ActedVia,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Service,
)
from incidents.timeline import events
from oncall.models import Membership
from oncall.permissions import RESPONDING_ROLES, can_respond

MANUAL_SOURCE = "manual"
MAX_TEXT = 20_000
MAX_REASON = 1_000
MAX_TITLE = 1_000


class InvalidTransition(Exception):
    """The action does not apply to the incident in its current state."""


def _who(user, actor_label: str) -> dict:
    if user is not None:
        return {"actor": user, "actor_label": ""}
    return {"actor": None, "actor_label": actor_label or "system"}


def _via(user, via: str) -> str:
    """Where the action came from (ActedVia): said by the caller, else a person acting is
    taken to be on the web and anything else to be the alert source."""
    if via:
        if via not in ActedVia.values:
            raise ValueError(f"unknown channel {via!r}")
        return via
    return ActedVia.WEB if user is not None else ActedVia.SOURCE


def _require_responder(user, team_id: int) -> None:
    if user is not None and not can_respond(user, team_id):
        raise PermissionDenied("only responders and managers of the team can act on its incidents")


@contextmanager
def _acting(*, incident_id: int | None, incident: Incident | None, user) -> Iterator[Incident]:
    """The incident, locked for the rest of the transaction, once `user` may act on it."""
    with transaction.atomic():
        if incident is None:
            incident = Incident.objects.select_for_update().get(pk=incident_id)
        _require_responder(user, incident.service.team_id)
        yield incident


def _text(field: str, value: str, *, required: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise FieldErrors({field: required})
    if len(value) > limit:
        raise FieldErrors({field: f"at most {limit} characters"})
    return value


def _instant(field: str, value: datetime, *, now: datetime) -> datetime:
    if timezone.is_naive(value):
        raise FieldErrors({field: "must include a time zone (e.g. 2026-11-26T10:00:00Z)"})
    if value > now:
        raise FieldErrors({field: "cannot be in the future"})
    return value.astimezone(UTC)


def _severity(value: str) -> str:
    if value not in set(Severity):
        raise FieldErrors({"severity": f"must be one of {', '.join(Severity)}"})
    return value


# --- state transitions ------------------------------------------------------------------------


def incident_acknowledge(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
    via: str = "",
) -> Incident:
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.status == IncidentStatus.ACKNOWLEDGED:
            raise InvalidTransition(f"incident #{locked.pk} is already acknowledged")
        if locked.status == IncidentStatus.RESOLVED:
            raise InvalidTransition(f"incident #{locked.pk} is resolved; reopen it first")
        events.incident_acknowledged(
            incident=locked,
            at=at or timezone.now(),
            via=_via(user, via),
            **_who(user, actor_label),
        )
    return locked


def incident_unacknowledge(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
    via: str = "",
) -> Incident:
    """Withdraw an acknowledgement: the incident is triggered again (and escalates again)."""
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.status != IncidentStatus.ACKNOWLEDGED:
            raise InvalidTransition(
                f"incident #{locked.pk} is {locked.status}, not acknowledged: "
                "there is no acknowledgement to withdraw"
            )
        events.incident_unacknowledged(
            incident=locked,
            at=at or timezone.now(),
            via=_via(user, via),
            **_who(user, actor_label),
        )
    return locked


def incident_resolve(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    user=None,
    actor_label: str = "",
    reason: str = "",
    at: datetime | None = None,
    via: str = "",
) -> Incident:
    reason = (reason or "").strip()[:MAX_REASON]
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.status == IncidentStatus.RESOLVED:
            raise InvalidTransition(f"incident #{locked.pk} is already resolved")
        events.incident_resolved(
            incident=locked,
            at=at or timezone.now(),
            reason=reason or ("resolved by a responder" if user else "resolved"),
            via=_via(user, via),
            **_who(user, actor_label),
        )
    return locked


def incident_reopen(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    user=None,
    actor_label: str = "",
    reason: str = "",
    at: datetime | None = None,
) -> Incident:
    reason = (reason or "").strip()[:MAX_REASON]
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.status != IncidentStatus.RESOLVED:
            raise InvalidTransition(f"incident #{locked.pk} is {locked.status}, not resolved")
        clash = _open_for_same_key(locked)
        if clash is None:
            try:
                with transaction.atomic():
                    events.incident_reopened(
                        incident=locked,
                        at=at or timezone.now(),
                        reason=reason or "reopened by a responder",
                        **_who(user, actor_label),
                    )
            except IntegrityError:
                # Intake opened one for the same key between our check and our write.
                locked.refresh_from_db()
                clash = _open_for_same_key(locked)
        if clash is not None:
            raise InvalidTransition(
                f"incident #{locked.pk} cannot be reopened: incident #{clash} is open for the "
                "same alert group"
            )
    return locked


def _open_for_same_key(incident: Incident) -> int | None:
    return (
        Incident.objects.filter(
            service_id=incident.service_id, dedup_key=incident.dedup_key, status__in=OPEN_STATUSES
        )
        .exclude(pk=incident.pk)
        .values_list("pk", flat=True)
        .first()
    )


# --- details ----------------------------------------------------------------------------------


def incident_add_note(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    text: str,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> IncidentEvent:
    """Notes are allowed in every state (a resolved incident gets its follow-up notes)."""
    text = _text("text", text, required="a note cannot be empty", limit=MAX_TEXT)
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        return events.note_added(
            incident=locked, at=at or timezone.now(), text=text, **_who(user, actor_label)
        )


def incident_set_severity(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    severity: str,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> Incident:
    """Allowed after resolution too: a review may reclassify an incident."""
    severity = _severity(severity)
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.severity == severity:
            raise InvalidTransition(f"incident #{locked.pk} is already {severity}")
        events.severity_changed(
            incident=locked,
            at=at or timezone.now(),
            old=locked.severity,
            new=severity,
            **_who(user, actor_label),
        )
    return locked


def incident_assign(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    assignee_id: int | None,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> Incident:
    """Assign (or reassign) an open incident to a responder or manager of the service's
    team; `assignee_id=None` unassigns it."""
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        if locked.status == IncidentStatus.RESOLVED:
            raise InvalidTransition(f"incident #{locked.pk} is resolved; reopen it to assign it")
        name = ""
        if assignee_id is not None:
            team = locked.service.team
            member = (
                Membership.objects.filter(team=team, user_id=assignee_id, role__in=RESPONDING_ROLES)
                .select_related("user")
                .first()
            )
            if member is None:
                raise FieldErrors({"assignee": f"must be a responder or manager of {team.name}"})
            name = member.user.get_username()
        if locked.assignee_id == assignee_id:
            already = f"assigned to {name}" if name else "unassigned"
            raise InvalidTransition(f"incident #{locked.pk} is already {already}")
        events.incident_assigned(
            incident=locked,
            at=at or timezone.now(),
            assignee_id=assignee_id,
            assignee_name=name,
            **_who(user, actor_label),
        )
    return locked


def incident_correct_impact_start(
    *,
    incident_id: int | None = None,
    incident: Incident | None = None,
    impact_started_at: datetime,
    reason: str,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> Incident:
    """Set when impact really began; MTTD and MTTR count from it from now on.

    Any time up to now is accepted, after detection too: an early warning may fire before
    users are affected, and the correction records what the review found. Reading the
    metrics, a start after detection means a detection time of zero, not a negative one.
    """
    at = at or timezone.now()
    started = _instant("impact_started_at", impact_started_at, now=at)
    reason = _text("reason", reason, required="say why the start time is corrected", limit=1000)
    with _acting(incident_id=incident_id, incident=incident, user=user) as locked:
        events.impact_start_corrected(
            incident=locked,
            at=at,
            impact_started_at=started,
            reason=reason,
            **_who(user, actor_label),
        )
    return locked


# --- manual incidents -------------------------------------------------------------------------


def incident_create(
    *,
    service: Service,
    title: str,
    severity: str,
    description: str = "",
    impact_started_at: datetime | None = None,
    user=None,
    actor_label: str = "",
    at: datetime | None = None,
) -> Incident:
    """Open an incident by hand (something is wrong and no alert said so)."""
    at = at or timezone.now()
    title = _text("title", title, required="an incident needs a title", limit=MAX_TITLE)
    severity = _severity(severity)
    description = (description or "").strip()
    if len(description) > MAX_TEXT:
        raise FieldErrors({"description": f"at most {MAX_TEXT} characters"})
    if impact_started_at is not None:
        impact_started_at = _instant("impact_started_at", impact_started_at, now=at)
    _require_responder(user, service.team_id)
    with transaction.atomic():
        incident = events.incident_triggered(
            service=service,
            # Each manual incident is its own group: alerts never join it by key.
            dedup_key=f"{MANUAL_SOURCE}:{uuid.uuid4().hex}",
            title=title,
            severity=severity,
            at=at,
            source=actor_label or MANUAL_SOURCE,
            actor=user,
            description=description,
            started_at=impact_started_at,
        )
    return incident
