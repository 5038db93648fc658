"""Apply parsed alert events to incidents: routing, dedup, lifecycle, heartbeats.

Called by the delivery processor inside the delivery's transaction, so everything here
happens exactly once per accepted delivery. The rules are written down in docs/alerts.md.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from incidents import events, routing
from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.models import (
    OPEN_STATUSES,
    Alert,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Integration,
    RoutingRule,
    Service,
)
from incidents.services import actions

_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}
# A fingerprint that fired this many times inside one incident is flapping.
FLAPPING_AFTER = 3


def alerts_apply(
    *, integration: Integration, alert_events: list[AlertEvent], received_at: datetime
) -> list[str]:
    """Fold one delivery's alert events into incidents; safe with a repeated snapshot.

    Returns notes about events that were recorded but changed nothing (e.g. a resolve for
    a key with no open incident); the caller keeps them on the delivery.
    """
    notes: list[str] = []
    if any(e.heartbeat for e in alert_events):
        integration_heartbeat(integration=integration, at=received_at)
    rules = _rules(integration)
    groups: dict[tuple[int, str], list[tuple[AlertEvent, bool]]] = defaultdict(list)
    for alert_event in alert_events:
        if alert_event.heartbeat:
            continue
        routed = routing.route(rules, alert_event.labels) if rules else None
        service_id = routed or integration.service_id
        groups[(service_id, alert_event.incident_key)].append(
            (alert_event, bool(rules) and not routed)
        )
    targets = {integration.service_id: integration.service}
    missing = {service_id for service_id, _ in groups} - targets.keys()
    targets.update(Service.objects.in_bulk(missing))
    for (service_id, key), items in groups.items():
        notes += _apply_group(
            service=targets[service_id],
            key=key,
            items=items,
            received_at=received_at,
            reopen_window=timedelta(seconds=integration.reopen_window_seconds),
        )
    return notes


def _rules(integration: Integration) -> list[tuple[list, int]]:
    return [
        (rule.matchers, rule.service_id)
        for rule in RoutingRule.objects.filter(integration=integration).order_by("position", "id")
    ]


def _apply_group(
    *,
    service: Service,
    key: str,
    items: list[tuple[AlertEvent, bool]],
    received_at: datetime,
    reopen_window: timedelta,
) -> list[str]:
    group = [alert_event for alert_event, _ in items]
    source = group[0].source
    incident = (
        Incident.objects.select_for_update()
        .filter(service=service, dedup_key=key, status__in=OPEN_STATUSES)
        .first()
    )
    firing = [e for e in group if e.status == AlertStatus.FIRING]
    if incident is None:
        last = _last_closed(service=service, key=key)
        if last is not None and last.resolved_at > received_at:
            # A snapshot received before the resolution already applied: stale.
            return [f"{key}: older than the resolution of incident #{last.pk}; ignored"]
        if not firing:
            return _closed_key_actions(group=group, last=last, key=key, at=received_at)
        if last is not None and reopen_window and received_at - last.resolved_at <= reopen_window:
            incident = Incident.objects.select_for_update().get(pk=last.pk)
            events.incident_reopened(
                incident=incident,
                at=received_at,
                reason=f"fired again within the reopen window ({reopen_window})",
                actor_label=source,
            )
        else:
            worst = min(firing, key=lambda e: _SEVERITY_RANK[e.severity])
            incident = events.incident_triggered(
                service=service,
                dedup_key=key,
                title=firing[0].title,
                severity=worst.severity,
                at=received_at,
                source=source,
            )
    alerts = {alert.fingerprint: alert for alert in incident.alerts.all()}
    for alert_event, unrouted in items:
        _apply_alert(incident=incident, alerts=alerts, alert_event=alert_event, at=received_at)
        if unrouted and alert_event.status == AlertStatus.FIRING:
            events.unrouted(
                incident=incident,
                fingerprint=alert_event.fingerprint,
                at=received_at,
                source=source,
                save=False,
            )
    truncated = max(e.group_truncated for e in group)
    if truncated and _last_truncation(incident) != truncated:
        events.sender_truncated(
            incident=incident, count=truncated, at=received_at, source=source, save=False
        )
    acknowledged = any(e.status == AlertStatus.ACKNOWLEDGED for e in group)
    if acknowledged and incident.status == IncidentStatus.TRIGGERED:
        # The same rule as a responder's acknowledge (one function for UI, API, sources).
        actions.incident_acknowledge(incident=incident, actor_label=source, at=received_at)
    if alerts and all(a.status == AlertStatus.RESOLVED for a in alerts.values()):
        events.incident_resolved(
            incident=incident,
            at=received_at,
            reason="all alerts resolved",
            actor_label=source,
            save=False,
        )
    incident.save()
    return []


def _apply_alert(
    *, incident: Incident, alerts: dict[str, Alert], alert_event: AlertEvent, at: datetime
) -> None:
    if alert_event.status == AlertStatus.ACKNOWLEDGED:
        return  # acknowledges the incident (see _apply_group); the alert keeps firing
    alert = alerts.get(alert_event.fingerprint)
    if alert is not None and alert.last_received_at > at:
        return  # a stale snapshot delivered late: newer state is already applied
    firing = alert_event.status == AlertStatus.FIRING
    starts_at = alert_event.starts_at
    if starts_at and starts_at > at:
        # A sender's clock ahead of ours must not lose or distort the page: clamp, say so.
        events.clock_skew(
            incident=incident,
            fingerprint=alert_event.fingerprint,
            reported=starts_at,
            at=at,
            source=alert_event.source,
            save=False,
        )
        starts_at = at
        alert_event = replace(alert_event, starts_at=at)
    if alert is None:
        if not firing:
            return  # resolved before we ever saw it fire: nothing to close
        alert = Alert.objects.create(
            incident=incident,
            fingerprint=alert_event.fingerprint,
            status=AlertStatus.FIRING,
            title=alert_event.title,
            severity=alert_event.severity,
            labels=alert_event.labels,
            annotations=alert_event.annotations,
            links=[{"href": link.href, "text": link.text} for link in alert_event.links],
            starts_at=starts_at,
            ends_at=None,
            first_received_at=at,
            last_received_at=at,
        )
        alerts[alert.fingerprint] = alert
        events.alert_fired(incident=incident, alert=alert_event, at=at, refire=False, save=False)
        return
    changed = ["last_received_at"]
    alert.last_received_at = at
    if firing and alert.status != AlertStatus.FIRING:
        alert.status = AlertStatus.FIRING
        alert.fire_count += 1
        alert.ends_at = None
        changed += ["status", "fire_count", "ends_at"]
        events.alert_fired(
            incident=incident,
            alert=alert_event,
            at=at,
            refire=True,
            fire_count=alert.fire_count,
            flapping=alert.fire_count >= FLAPPING_AFTER,
            save=False,
        )
    elif not firing and alert.status == AlertStatus.FIRING:
        alert.status = AlertStatus.RESOLVED
        alert.ends_at = alert_event.ends_at or at
        changed += ["status", "ends_at"]
        events.alert_resolved(incident=incident, alert=alert_event, at=at, save=False)
    alert.save(update_fields=changed)


def _closed_key_actions(
    *, group: list[AlertEvent], last: Incident | None, key: str, at: datetime
) -> list[str]:
    """Acknowledge / resolve for a key with no open incident: recorded, then ignored."""
    notes = []
    for alert_event in group:
        action = "acknowledge" if alert_event.status == AlertStatus.ACKNOWLEDGED else "resolve"
        if last is None:
            notes.append(f"{action} for unknown key {key!r} ignored: no incident")
            continue
        notes.append(f"{action} for key {key!r} ignored: incident #{last.pk} is resolved")
        if alert_event.status == AlertStatus.ACKNOWLEDGED:
            locked = Incident.objects.select_for_update().get(pk=last.pk)
            events.source_action_ignored(
                incident=locked,
                action=action,
                reason="the incident is already resolved",
                at=at,
                source=alert_event.source,
            )
    return notes


def _last_closed(*, service: Service, key: str) -> Incident | None:
    return (
        Incident.objects.filter(service=service, dedup_key=key, status=IncidentStatus.RESOLVED)
        .order_by("-resolved_at")
        .first()
    )


def _last_truncation(incident: Incident) -> int | None:
    last = (
        IncidentEvent.objects.filter(incident=incident, kind=EventKind.SENDER_TRUNCATED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return last["count"] if last else None


# --- heartbeats -------------------------------------------------------------------------------

HEARTBEAT_SOURCE = "heartbeat"


def integration_heartbeat(*, integration: Integration, at: datetime) -> None:
    """Record that the integration's monitoring is alive (Watchdog alert or ping)."""
    Integration.objects.filter(pk=integration.pk).filter(
        Q(last_heartbeat_at__isnull=True) | Q(last_heartbeat_at__lt=at)
    ).update(last_heartbeat_at=at)


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
        with transaction.atomic():
            _apply_group(
                service=integration.service,
                key=key,
                items=[(alert_event, False)],
                received_at=now,
                reopen_window=timedelta(0),
            )
        changed += 1
    return changed
