"""Heartbeats: an integration whose monitoring stops calling in gets a "no heartbeat"
incident, resolved when it calls again (beat task `incidents.check_heartbeats`).

The incident is opened and resolved through the same alert batch as webhook alerts
(incidents.intake.apply), so dedup and the timeline follow the rules of docs/alerts.md.
A heartbeat itself is recorded by `apply.integration_heartbeat`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.intake.apply import batch
from incidents.models import (
    OPEN_STATUSES,
    Incident,
    Integration,
)

# --- heartbeats -------------------------------------------------------------------------------

HEARTBEAT_SOURCE = "heartbeat"


def heartbeats_check(*, now: datetime | None = None) -> int:
    """Open an incident for each integration whose heartbeat is overdue, and resolve it once
    heartbeats resume. Idempotent: run it as often as you like. Returns incidents changed."""
    now = now or timezone.now()
    changed = 0
    watched = Integration.objects.filter(
        heartbeat_interval_seconds__isnull=False, enabled=True
    ).select_related("service")
    for integration in watched:
        last = integration.last_heartbeat_at or integration.created_at
        due = last + timedelta(seconds=integration.heartbeat_interval_seconds)
        missing = now > due
        key = f"heartbeat:{integration.pk}"
        is_open = Incident.objects.filter(
            service=integration.service, dedup_key=key, status__in=OPEN_STATUSES
        ).exists()
        if missing == is_open:
            continue
        alert_event = AlertEvent(
            source=HEARTBEAT_SOURCE,
            incident_key=key,
            fingerprint=key,
            status=AlertStatus.FIRING if missing else AlertStatus.RESOLVED,
            title=f"No heartbeat from {integration.name} since {last:%Y-%m-%d %H:%M:%S} UTC",
            severity=Severity.CRITICAL,
            labels={"integration": str(integration.pk)},
            starts_at=due,
            ends_at=None if missing else integration.last_heartbeat_at,
        )
        with transaction.atomic(), batch() as unit:
            unit.apply_group(
                service=integration.service,
                key=key,
                items=[(alert_event, False)],
                received_at=now,
                reopen_window=timedelta(0),
            )
        changed += 1
    return changed
