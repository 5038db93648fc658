from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from incidents import projection
from incidents.models import OPEN_STATUSES, Incident, IncidentEvent, IncidentStatus, Service
from oncall.selectors import teams_for


def services_for(user) -> QuerySet[Service]:
    return Service.objects.filter(team__in=teams_for(user)).select_related("team")


def incidents_for(user) -> QuerySet[Incident]:
    return Incident.objects.filter(service__team__in=teams_for(user)).select_related(
        "service", "service__team"
    )


def open_incidents(user) -> QuerySet[Incident]:
    return incidents_for(user).filter(status__in=OPEN_STATUSES).order_by("-detected_at")


def recently_resolved(user, *, limit: int = 20) -> list[Incident]:
    return list(
        incidents_for(user).filter(status=IncidentStatus.RESOLVED).order_by("-resolved_at")[:limit]
    )


def incident_detail(user, incident_id: int) -> Incident:
    """The incident with its timeline and alerts; raises Incident.DoesNotExist if not visible."""
    return (
        incidents_for(user)
        .prefetch_related(
            Prefetch(
                "events", queryset=IncidentEvent.objects.select_related("actor").order_by("seq")
            ),
            "alerts",
        )
        .get(pk=incident_id)
    )


def incident_replayed(incident: Incident) -> projection.IncidentState:
    """What the incident row should be, rebuilt from its events."""
    return projection.replay(incident.events.order_by("seq"))
