"""Writes for alert intake: integrations, deliveries (accept, claim, process) and applying
parsed alert events to incidents."""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from incidents import events, sources
from incidents.alerts import AlertEvent, AlertStatus, PayloadError, Severity
from incidents.models import (
    OPEN_STATUSES,
    Alert,
    AlertDelivery,
    DeliveryStatus,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Integration,
    Service,
    hash_token,
)

log = logging.getLogger(__name__)

DRAIN_TASK = "incidents.drain_deliveries"
_KICK_KEY = "intake:drain-kick"
_FANOUT_KEY = "intake:drain-fanout"
_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


# --- integrations ---------------------------------------------------------------------------


def integration_create(*, service: Service, source: str, name: str = "") -> tuple[Integration, str]:
    """Create an integration; the plain token is returned once and only its hash is kept."""
    if source not in sources.REGISTRY:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(sorted(sources.REGISTRY))}")
    token = secrets.token_urlsafe(32)
    integration = Integration.objects.create(
        service=service,
        source=source,
        name=name or f"{sources.REGISTRY[source].name} for {service.name}",
        token_hash=hash_token(token),
        token_prefix=token[:6],
    )
    return integration, token


def integration_set_token(*, integration: Integration, token: str) -> None:
    integration.token_hash = hash_token(token)
    integration.token_prefix = token[:6]
    integration.save(update_fields=["token_hash", "token_prefix"])


def webhook_url(*, integration: Integration, token: str) -> str:
    return f"{settings.PAGERLINE_BASE_URL}/hooks/{integration.source}/{token}"


# --- intake: accept ---------------------------------------------------------------------------


def delivery_accept(*, integration: Integration, body: str, received_at: datetime) -> AlertDelivery:
    """Store a webhook body; once this commits the alert will be processed, whatever fails next."""
    delivery = AlertDelivery.objects.create(
        integration=integration, body=body, received_at=received_at
    )
    transaction.on_commit(deliveries_kick)
    return delivery


_kick_suppressed_until = 0.0


def deliveries_kick() -> None:
    """Ask a worker to drain pending deliveries, at most once per short interval.

    The flag in Redis collapses a storm of webhooks into one Celery message; the draining
    task clears it before it looks for work, so a delivery committed after that look sets
    it again. If Redis is down we log and move on: the delivery is committed and the
    beat re-drive will find it.
    """
    global _kick_suppressed_until
    if time.monotonic() < _kick_suppressed_until:
        return
    try:
        if cache.add(_KICK_KEY, 1, timeout=10):
            current_app.send_task(DRAIN_TASK, retry=False)
    except Exception:
        _kick_suppressed_until = time.monotonic() + 5
        log.warning("could not enqueue the drain task; the beat re-drive will pick it up")


# --- intake: claim and process ----------------------------------------------------------------


def deliveries_claim(*, limit: int, now: datetime | None = None) -> tuple[str, list[AlertDelivery]]:
    """Claim up to `limit` unfinished deliveries for this worker (oldest first).

    A claim older than PAGERLINE_CLAIM_TIMEOUT_SECONDS belonged to a worker that died and
    is taken over. SKIP LOCKED lets several workers claim side by side on PostgreSQL;
    SQLite serialises writers instead.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    token = uuid.uuid4().hex
    claimable = Q(status=DeliveryStatus.PENDING) | Q(
        status=DeliveryStatus.PROCESSING, claimed_at__lt=stale
    )
    with transaction.atomic():
        ids = list(
            AlertDelivery.objects.filter(claimable)
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return token, []
        AlertDelivery.objects.filter(Q(id__in=ids) & claimable).update(
            status=DeliveryStatus.PROCESSING,
            claim_token=token,
            claimed_at=now,
            attempts=F("attempts") + 1,
        )
    batch = list(
        AlertDelivery.objects.filter(claim_token=token, status=DeliveryStatus.PROCESSING)
        .select_related("integration__service")
        .order_by("id")
    )
    return token, batch


def delivery_process(*, delivery: AlertDelivery, token: str) -> str:
    """Apply one claimed delivery exactly once; returns the delivery's final status.

    Marking it processed happens first, conditionally on our claim, inside the same
    transaction as its effects: a worker killed half-way leaves nothing behind, and a
    worker whose claim was taken over does nothing.
    """
    for attempt in range(3):
        try:
            with transaction.atomic():
                mine = AlertDelivery.objects.filter(
                    pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
                ).update(status=DeliveryStatus.PROCESSED, processed_at=timezone.now(), error="")
                if not mine:
                    return "lost"
                source = sources.get(delivery.integration.source)
                alert_events = source.parse(json.loads(delivery.body), delivery.integration.options)
                alerts_apply(
                    integration=delivery.integration,
                    alert_events=alert_events,
                    received_at=delivery.received_at,
                )
            return DeliveryStatus.PROCESSED
        except IntegrityError:
            # Another worker opened the same incident a moment ago; our transaction rolled
            # back, so retrying sees its incident and joins it.
            if attempt == 2:
                raise
        except DatabaseError:
            # The database hiccuped (lock timeout, failover): hand the delivery back so the
            # next drain retries it, instead of waiting for the claim to expire.
            _delivery_release(delivery=delivery, token=token)
            raise
        except PayloadError as exc:
            return _delivery_fail(delivery=delivery, token=token, error=f"invalid payload: {exc}")
        except Exception as exc:
            log.exception("delivery %s failed", delivery.pk)
            return _delivery_fail(
                delivery=delivery, token=token, error=f"{type(exc).__name__}: {exc}"
            )
    raise AssertionError("unreachable")


def _delivery_release(*, delivery: AlertDelivery, token: str) -> None:
    try:
        AlertDelivery.objects.filter(
            pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
        ).update(status=DeliveryStatus.PENDING, claim_token="", claimed_at=None)
    except DatabaseError:
        log.warning("could not release delivery %s; its claim will expire", delivery.pk)


def _delivery_fail(*, delivery: AlertDelivery, token: str, error: str) -> str:
    AlertDelivery.objects.filter(
        pk=delivery.pk, claim_token=token, status=DeliveryStatus.PROCESSING
    ).update(status=DeliveryStatus.FAILED, processed_at=timezone.now(), error=error[:5000])
    return DeliveryStatus.FAILED


def deliveries_drain(*, max_seconds: float = 20.0) -> int:
    """Process deliveries until none are left or time runs out; returns how many."""
    limit = settings.PAGERLINE_DRAIN_BATCH
    deadline = time.monotonic() + max_seconds
    done = 0
    while time.monotonic() < deadline:
        cache.delete(_KICK_KEY)
        token, batch = deliveries_claim(limit=limit)
        if not batch:
            return done
        if len(batch) == limit and cache.add(_FANOUT_KEY, 1, timeout=1):
            # A full batch means a backlog: let another worker process share it.
            current_app.send_task(DRAIN_TASK)
        for delivery in batch:
            delivery_process(delivery=delivery, token=token)
            done += 1
    current_app.send_task(DRAIN_TASK)
    return done


def deliveries_overdue(*, now: datetime | None = None) -> bool:
    """True when some delivery waited longer than it should have (its kick was lost)."""
    now = now or timezone.now()
    redrive_before = now - timedelta(seconds=settings.PAGERLINE_REDRIVE_AFTER_SECONDS)
    stale_claim = now - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    return AlertDelivery.objects.filter(
        Q(status=DeliveryStatus.PENDING, received_at__lt=redrive_before)
        | Q(status=DeliveryStatus.PROCESSING, claimed_at__lt=stale_claim)
    ).exists()


def delivery_retry(*, delivery: AlertDelivery) -> None:
    """Put a failed delivery back in the queue (after the bug that failed it is fixed)."""
    AlertDelivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.PENDING, claim_token="", claimed_at=None, error=""
    )
    transaction.on_commit(deliveries_kick)


# --- intake: apply alert events ---------------------------------------------------------------


def alerts_apply(
    *, integration: Integration, alert_events: list[AlertEvent], received_at: datetime
) -> None:
    """Fold one delivery's alert events into incidents; safe to call with a repeated snapshot."""
    service = integration.service
    groups: dict[str, list[AlertEvent]] = defaultdict(list)
    for alert_event in alert_events:
        if not alert_event.heartbeat:
            groups[alert_event.incident_key].append(alert_event)
    for key, group in groups.items():
        _apply_group(service=service, key=key, group=group, received_at=received_at)


def _apply_group(
    *, service: Service, key: str, group: list[AlertEvent], received_at: datetime
) -> None:
    incident = (
        Incident.objects.select_for_update()
        .filter(service=service, dedup_key=key, status__in=OPEN_STATUSES)
        .first()
    )
    firing = [e for e in group if e.status == AlertStatus.FIRING]
    if incident is None:
        if not firing or _newer_resolution_exists(service=service, key=key, at=received_at):
            return
        worst = min(firing, key=lambda e: _SEVERITY_RANK[e.severity])
        incident = events.incident_triggered(
            service=service,
            dedup_key=key,
            title=firing[0].title,
            severity=worst.severity,
            at=received_at,
            source=firing[0].source,
        )
    alerts = {alert.fingerprint: alert for alert in incident.alerts.all()}
    for alert_event in group:
        _apply_alert(incident=incident, alerts=alerts, alert_event=alert_event, at=received_at)
    truncated = max(e.group_truncated for e in group)
    if truncated and _last_truncation(incident) != truncated:
        events.sender_truncated(
            incident=incident, count=truncated, at=received_at, source=group[0].source, save=False
        )
    if alerts and all(a.status == AlertStatus.RESOLVED for a in alerts.values()):
        events.incident_resolved(
            incident=incident,
            at=received_at,
            reason="all alerts resolved",
            actor_label=group[0].source,
            save=False,
        )
    incident.save()


def _apply_alert(
    *, incident: Incident, alerts: dict[str, Alert], alert_event: AlertEvent, at: datetime
) -> None:
    alert = alerts.get(alert_event.fingerprint)
    if alert is not None and alert.last_received_at > at:
        return  # a stale snapshot delivered late: newer state is already applied
    starts_at = min(alert_event.starts_at, at) if alert_event.starts_at else None
    firing = alert_event.status == AlertStatus.FIRING
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
        events.alert_fired(incident=incident, alert=alert_event, at=at, refire=True, save=False)
    elif not firing and alert.status == AlertStatus.FIRING:
        alert.status = AlertStatus.RESOLVED
        alert.ends_at = alert_event.ends_at or at
        changed += ["status", "ends_at"]
        events.alert_resolved(incident=incident, alert=alert_event, at=at, save=False)
    alert.save(update_fields=changed)


def _newer_resolution_exists(*, service: Service, key: str, at: datetime) -> bool:
    """A firing snapshot received before the resolution already applied must not reopen."""
    return Incident.objects.filter(
        service=service, dedup_key=key, status=IncidentStatus.RESOLVED, resolved_at__gt=at
    ).exists()


def _last_truncation(incident: Incident) -> int | None:
    last = (
        IncidentEvent.objects.filter(incident=incident, kind=EventKind.SENDER_TRUNCATED)
        .order_by("-seq")
        .values_list("data", flat=True)
        .first()
    )
    return last["count"] if last else None
