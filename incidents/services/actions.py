"""Responder actions: one service function per action, shared by the HTML views, the API
and source events, so each rule is written once."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from incidents import events
from incidents.models import Incident, IncidentStatus


class InvalidTransition(Exception):
    """The action does not apply to the incident in its current state."""


def incident_acknowledge(*, incident_id: int, user, at: datetime | None = None) -> Incident:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.status != IncidentStatus.TRIGGERED:
            raise InvalidTransition(f"incident #{incident.pk} is {incident.status}, not triggered")
        events.incident_acknowledged(incident=incident, at=at or timezone.now(), actor=user)
    return incident


def incident_resolve(*, incident_id: int, user, at: datetime | None = None) -> Incident:
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(pk=incident_id)
        if incident.status == IncidentStatus.RESOLVED:
            raise InvalidTransition(f"incident #{incident.pk} is already resolved")
        events.incident_resolved(
            incident=incident, at=at or timezone.now(), reason="resolved by a responder", actor=user
        )
    return incident
