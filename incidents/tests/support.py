"""Helpers of the incidents tests that are neither builders (factories.py) nor fixtures
(conftest.py): drive intake and escalation as their tasks would, at explicit times, and read
the timeline back."""

from __future__ import annotations

import json
from datetime import datetime

from incidents.escalation import runs
from incidents.intake import drain, store
from incidents.models import AlertDelivery, IncidentEscalation


def deliver(integration, payload: dict, at: datetime) -> AlertDelivery:
    """Accept a webhook body at `at` and drain it, as the worker would; the delivery."""
    store.delivery_accept(integration=integration, body=json.dumps(payload), received_at=at)
    drain.deliveries_drain()
    return AlertDelivery.objects.order_by("-pk").first()


def fire(incident, now: datetime) -> str:
    """What the ETA task does at `now`: advance with the escalation's current token."""
    current = IncidentEscalation.objects.get(incident=incident)
    return runs.escalation_advance(escalation_id=current.pk, token=current.token, now=now)


def timeline(incident, *kinds: str) -> list[str]:
    """The summaries of the incident's escalation events (or of the given kinds), in order."""
    wanted = kinds or ("escalated", "escalation_warning", "escalation_exhausted", "in_maintenance")
    return [
        e.data.get("summary", e.kind)
        for e in incident.events.filter(kind__in=wanted).order_by("seq")
    ]
