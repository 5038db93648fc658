"""Reads for paging: who was notified, escalation warnings, maintenance, breakers.
Re-exported by incidents.selectors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, JSONField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from incidents.models import (
    CircuitBreaker,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    MaintenanceWindow,
    Notification,
)
from oncall.models import Role
from oncall.selectors import teams_for


def notifications_for(incident: Incident) -> list[Notification]:
    """Every attempt to page someone about the incident, oldest first."""
    return list(
        Notification.objects.filter(incident=incident)
        .select_related("user", "contact_method")
        .order_by("created_at", "id")
    )


@dataclass(frozen=True)
class EscalationWarning:
    incident: Incident
    at: datetime
    summary: str


def escalation_warnings(user, *, limit: int = 20) -> list[EscalationWarning]:
    """Triggered incidents in the user's teams whose paging may reach nobody, newest first:
    the latest step that reached nobody (else the chain running out), or a service with no
    escalation policy at all. One query."""
    latest = IncidentEvent.objects.filter(
        incident=OuterRef("pk"),
        kind__in=[EventKind.ESCALATION_WARNING, EventKind.ESCALATION_EXHAUSTED],
    ).order_by(
        # "Reached nobody" says what to fix; "ran out" only that nobody acknowledged.
        Case(When(kind=EventKind.ESCALATION_WARNING, then=Value(0)), default=Value(1)),
        "-seq",
    )
    incidents = (
        Incident.objects.filter(service__team__in=teams_for(user), status=IncidentStatus.TRIGGERED)
        .annotate(
            warning_at=Subquery(latest.values("at")[:1]),
            warning=Subquery(latest.values("data")[:1], output_field=JSONField()),
        )
        .filter(Q(warning_at__isnull=False) | Q(service__escalation_policy__isnull=True))
        .select_related("service")
        .order_by(Coalesce("warning_at", "detected_at").desc(), "-pk")[:limit]
    )
    warnings = []
    for incident in incidents:
        if incident.warning_at is None:
            summary = f"{incident.service.name} has no escalation policy: nobody is paged"
            warnings.append(EscalationWarning(incident, incident.detected_at, summary))
        else:
            summary = (incident.warning or {}).get("summary", "")
            warnings.append(EscalationWarning(incident, incident.warning_at, summary))
    return warnings


def maintenance_windows_for(user) -> QuerySet[MaintenanceWindow]:
    return (
        MaintenanceWindow.objects.filter(team__in=teams_for(user))
        .select_related("team", "created_by")
        .prefetch_related("services")
    )


def active_maintenance(user, *, now: datetime | None = None) -> list[MaintenanceWindow]:
    """Windows in the user's teams that hold paging right now."""
    now = now or timezone.now()
    return list(maintenance_windows_for(user).active_at(now).order_by("ends_at"))


def managed_teams(user):
    """Teams whose configuration (maintenance windows) the user may change."""
    teams = teams_for(user)
    if user.is_authenticated and user.is_staff:
        return teams
    return teams.filter(memberships__user=user, memberships__role=Role.MANAGER)


def circuit_breakers() -> QuerySet[CircuitBreaker]:
    return CircuitBreaker.objects.order_by("endpoint")
