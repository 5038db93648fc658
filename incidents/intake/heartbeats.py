"""Heartbeats: an integration whose monitoring stops calling in gets a "no heartbeat"
incident, resolved when it calls again (beat task `incidents.check_heartbeats`).

The incident is opened and resolved through the same alert batch as webhook alerts
(incidents.intake.apply), so dedup and the timeline follow the rules of docs/alerts.md.
A heartbeat itself is recorded by `apply.integration_heartbeat`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.audit import audit_record, diff
from core.errors import FieldErrors
from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.intake.apply import batch
from incidents.models import (
    OPEN_STATUSES,
    Incident,
    Integration,
    NamedHeartbeat,
    SourceKind,
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
        changed += _check(
            integration=integration,
            key=f"heartbeat:{integration.pk}",
            what=integration.name,
            last=integration.last_heartbeat_at or integration.created_at,
            interval=integration.heartbeat_interval_seconds,
            seen=integration.last_heartbeat_at,
            now=now,
        )
    named = NamedHeartbeat.objects.filter(enabled=True, integration__enabled=True).select_related(
        "integration__service"
    )
    for heartbeat in named:
        changed += _check(
            integration=heartbeat.integration,
            key=f"heartbeat:{heartbeat.integration_id}:{heartbeat.name}",
            what=f"{heartbeat.name} ({heartbeat.integration.name})",
            last=heartbeat.last_ping_at or heartbeat.created_at,
            interval=heartbeat.interval_seconds,
            seen=heartbeat.last_ping_at,
            now=now,
            labels={"heartbeat": heartbeat.name},
        )
    return changed


def _check(
    *,
    integration: Integration,
    key: str,
    what: str,
    last: datetime,
    interval: int,
    seen: datetime | None,
    now: datetime,
    labels: dict[str, str] | None = None,
) -> int:
    """Open or resolve one heartbeat's incident; 1 when it changed, else 0."""
    due = last + timedelta(seconds=interval)
    missing = now > due
    is_open = Incident.objects.filter(
        service=integration.service, dedup_key=key, status__in=OPEN_STATUSES
    ).exists()
    if missing == is_open:
        return 0
    alert_event = AlertEvent(
        source=HEARTBEAT_SOURCE,
        incident_key=key,
        fingerprint=key,
        status=AlertStatus.FIRING if missing else AlertStatus.RESOLVED,
        title=f"No heartbeat from {what} since {last:%Y-%m-%d %H:%M:%S} UTC",
        severity=Severity.CRITICAL,
        labels={"integration": str(integration.pk), **(labels or {})},
        starts_at=due,
        ends_at=None if missing else seen,
    )
    with transaction.atomic(), batch() as unit:
        unit.apply_group(
            service=integration.service,
            key=key,
            items=[(alert_event, False)],
            received_at=now,
            reopen_window=timedelta(0),
        )
    return 1


def named_heartbeat_ping(*, integration: Integration, name: str, at: datetime) -> bool:
    """Record a ping of the integration's heartbeat `name`; False when it has none by that
    name (Opsgenie answers such a ping as any other, so the view does too)."""
    heartbeat = NamedHeartbeat.objects.filter(integration=integration, name=name)
    if not heartbeat.exists():
        return False
    heartbeat.filter(Q(last_ping_at__isnull=True) | Q(last_ping_at__lt=at)).update(last_ping_at=at)
    return True


@transaction.atomic
def named_heartbeat_create(
    *,
    integration: Integration,
    name: str,
    interval_seconds: int,
    description: str = "",
    enabled: bool = True,
    actor=None,
) -> NamedHeartbeat:
    """A named heartbeat of the integration; FieldErrors names what is wrong."""
    errors: dict[str, str] = {}
    if integration.source != SourceKind.OPSGENIE:
        # Pinged at /v2/heartbeats/<name>/ping, whose GenieKey is an Opsgenie integration's.
        errors["integration"] = (
            "named heartbeats are pinged through the Opsgenie API: only an Opsgenie "
            "integration has them"
        )
    name = name.strip()
    if not name:
        errors["name"] = "Name can not be empty."
    elif len(name) > 200:
        errors["name"] = "must be at most 200 characters"
    elif NamedHeartbeat.objects.filter(integration=integration, name=name).exists():
        errors["name"] = f"a heartbeat named {name!r} already exists"
    errors.update(_interval_errors(interval_seconds))
    if errors:
        raise FieldErrors(errors)
    try:
        # Two callers creating the same name at once: the loser's answer names the field.
        with transaction.atomic():
            heartbeat = NamedHeartbeat.objects.create(
                integration=integration,
                name=name,
                interval_seconds=interval_seconds,
                description=description[:1000],
                enabled=enabled,
            )
    except IntegrityError:
        raise FieldErrors({"name": f"a heartbeat named {name!r} already exists"}) from None
    audit_record(
        actor=actor,
        action="integration.heartbeat_created",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r}: heartbeat {name!r} every "
        f"{interval_seconds // 60} min",
        changes={"heartbeat": name, "interval_seconds": interval_seconds, "enabled": enabled},
    )
    return heartbeat


def _interval_errors(interval_seconds: int) -> dict[str, str]:
    """A named heartbeat's interval, on creation and on every change."""
    return {"interval": "must be at least one minute"} if interval_seconds < 60 else {}


@transaction.atomic
def named_heartbeat_update(
    *, heartbeat: NamedHeartbeat, interval_seconds: int, description: str, enabled: bool, actor
) -> NamedHeartbeat:
    """Change a named heartbeat's interval, description or whether it is watched; its
    name (what senders ping) and last ping stay. Audited only when something changed."""
    if errors := _interval_errors(interval_seconds):
        raise FieldErrors(errors)
    fields = ["interval_seconds", "description", "enabled"]
    before = {field: getattr(heartbeat, field) for field in fields}
    heartbeat.interval_seconds = interval_seconds
    heartbeat.description = description[:1000]
    heartbeat.enabled = enabled
    changes = diff(before, {field: getattr(heartbeat, field) for field in fields})
    if not changes:
        return heartbeat
    heartbeat.save(update_fields=fields)
    integration = heartbeat.integration
    audit_record(
        actor=actor,
        action="integration.heartbeat_updated",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r}: heartbeat {heartbeat.name!r} every "
        f"{interval_seconds // 60} min{'' if enabled else ', not watched'}",
        changes={"heartbeat": heartbeat.name, **changes},
    )
    return heartbeat


@transaction.atomic
def named_heartbeat_delete(*, heartbeat: NamedHeartbeat, actor) -> None:
    integration = heartbeat.integration
    heartbeat.delete()
    audit_record(
        actor=actor,
        action="integration.heartbeat_deleted",
        obj=integration,
        team_id=integration.service.team_id,
        summary=f"integration {integration.name!r}: heartbeat {heartbeat.name!r} removed",
        changes={"heartbeat": heartbeat.name},
    )
