"""Timeline entries for failover drills. Drills live in the metrics app, which follows the
incident log and writes back only through these functions (incidents never import metrics).
They add a timeline event and leave the incident's state as it was."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents.models import Incident, IncidentEvent
from incidents.timeline import events


def incident_drill_attached(
    *,
    incident_id: int,
    drill_id: int,
    drill_name: str,
    actor=None,
    automatic: bool,
    at: datetime | None = None,
) -> IncidentEvent:
    """Record on the incident's timeline that it belongs to a drill."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        return events.drill_attached(
            incident=incident,
            at=at or timezone.now(),
            drill_id=drill_id,
            drill_name=drill_name,
            automatic=automatic,
            actor=actor,
        )


def incident_drill_detached(
    *,
    incident_id: int,
    drill_id: int,
    drill_name: str,
    actor=None,
    automatic: bool = False,
    at: datetime | None = None,
) -> IncidentEvent:
    """Record on the incident's timeline that it no longer counts as part of a drill."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        return events.drill_detached(
            incident=incident,
            at=at or timezone.now(),
            drill_id=drill_id,
            drill_name=drill_name,
            automatic=automatic,
            actor=actor,
        )
