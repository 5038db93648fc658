"""Builders of incidents rows for tests: plain functions with keyword defaults, through the
incidents' services where a service exists (incidents are real projections of real
timelines), so the metrics tests use them too. Where a builder writes rows itself, its
docstring says why. The shared fixtures (`service`, `integration`) in the root conftest.py
are built here. How to add one: tests/README.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from incidents.catalog import changes
from incidents.models import (
    AlertDelivery,
    Channel,
    ContactMethod,
    DeliveryStatus,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Incident,
    Integration,
    NamedHeartbeat,
    Notification,
    NotificationReason,
    NotificationStatus,
    RoutingRule,
    Service,
)
from incidents.notify import contacts, sending
from incidents.timeline import actions, events

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def make_service(team, slug: str = "checkout", name: str = "", **fields) -> Service:
    """Written directly: catalog.changes.service_create also records a manager's action in
    the audit log, which the audit tests count."""
    return Service.objects.create(team=team, slug=slug, name=name or slug.title(), **fields)


def make_integration(
    service: Service, *, source: str = "alertmanager", name: str = ""
) -> tuple[Integration, str]:
    """The integration and its plain token."""
    return changes.integration_create(service=service, source=source, name=name)


def make_named_heartbeat(
    integration: Integration, name: str, *, interval_seconds: int = 600
) -> NamedHeartbeat:
    """A named heartbeat of an Opsgenie integration, through its service."""
    from incidents.intake.heartbeats import named_heartbeat_create

    return named_heartbeat_create(
        integration=integration, name=name, interval_seconds=interval_seconds
    )


def make_routing_rule(
    integration: Integration, *, service: Service, matchers: list, position: int = 0
) -> RoutingRule:
    return changes.routing_rule_create(
        actor=None, integration=integration, matchers=matchers, service=service, position=position
    )


def make_policy(team, *steps, repeat: int = 0, fallback=None, name: str = "Primary"):
    """steps: (delay_seconds, [user or ("schedule", id), ...]) pairs.

    Written directly: the escalation tests need targets that policies.policy_create refuses
    (a viewer, a schedule id the team does not have), and the audit tests count its
    entries."""
    policy = EscalationPolicy.objects.create(
        team=team, name=name, repeat=repeat, fallback_user=fallback
    )
    for position, (delay, targets) in enumerate(steps):
        step = EscalationStep.objects.create(policy=policy, position=position, delay_seconds=delay)
        for target in targets:
            if isinstance(target, tuple):
                EscalationTarget.objects.create(step=step, schedule_id=target[1])
            else:
                EscalationTarget.objects.create(step=step, user=target)
    return policy


def make_contact_method(
    user, *, kind: str = "email", address: str = "", verified: bool = True, **preferences
) -> ContactMethod:
    """An email to <username>@example.com unless told otherwise. A webhook to this machine
    needs tests.peers.allow_loopback first (the `receiver` fixture does it).

    Verified unless told otherwise, as if its owner had entered the code sent to it; the
    queued verification message is dropped, so it is not among the rows a test counts
    (verification has tests of its own: incidents/tests/notify/test_verification.py)."""
    method = contacts.contact_method_create(
        user=user, kind=kind, address=address or f"{user.get_username()}@example.com", **preferences
    )
    if verified:
        Notification.objects.filter(
            contact_method=method, reason=NotificationReason.VERIFY
        ).delete()
        method.verified_at = timezone.now()
        method.save(update_fields=["verified_at"])
    return method


def make_incident(
    service: Service,
    *,
    detected: datetime,
    impact: datetime | None = None,
    acked: datetime | None = None,
    acked_by=None,
    unacked: datetime | None = None,
    resolved: datetime | None = None,
    resolved_by=None,
    reopened: datetime | None = None,
    corrected: datetime | None = None,
    title: str = "Checkout is down",
    actor_label: str = "test",
) -> Incident:
    """An incident opened by hand at `detected` and taken through the given actions, each at
    its time (acknowledged and resolved by the given users, else by `actor_label`)."""
    incident = actions.incident_create(
        service=service,
        title=title,
        severity="critical",
        impact_started_at=impact,
        actor_label=actor_label,
        at=detected,
    )
    who = {"incident_id": incident.pk, "actor_label": actor_label}
    if acked:
        actions.incident_acknowledge(**who, user=acked_by, at=acked)
    if unacked:
        actions.incident_unacknowledge(**who, at=unacked)
    if corrected:
        actions.incident_correct_impact_start(
            **who,
            impact_started_at=corrected,
            reason="the review found an earlier start",
            at=max(corrected, detected) + timedelta(minutes=1),
        )
    if resolved:
        actions.incident_resolve(**who, user=resolved_by, at=resolved)
    if reopened:
        actions.incident_reopen(**who, at=reopened)
    incident.refresh_from_db()
    return incident


def make_incidents(
    service: Service,
    user,
    count: int,
    *,
    start: int = 0,
    severity: str = "error",
    title: str = "Incident",
    first_at: datetime = T0,
) -> list[Incident]:
    """Incidents `title` n, opened by `user` n hours after `first_at`, for n from `start`."""
    return [
        actions.incident_create(
            service=service,
            title=f"{title} {n}",
            severity=severity,
            user=user,
            at=first_at + timedelta(hours=n),
        )
        for n in range(start, start + count)
    ]


def make_alert_incident(
    service: Service, at: datetime, *, key: str = "k1", title: str = "Checkout is down"
) -> Incident:
    """An incident opened as an alert source opens one: by dedup key, with no person."""
    return events.incident_triggered(
        service=service, dedup_key=key, title=title, severity="critical", at=at, source="test"
    )


def make_delivery(
    integration: Integration,
    *,
    received_at: datetime,
    status: str = DeliveryStatus.PENDING,
    latency: float | None = None,
    body: str = "{}",
) -> AlertDelivery:
    """A delivery in a given state, processed `latency` seconds after it was received.
    Written directly: intake.store sends its after-commit kick, and drains decide states."""
    return AlertDelivery.objects.create(
        integration=integration,
        body=body,
        status=status,
        received_at=received_at,
        processed_at=received_at + timedelta(seconds=latency) if latency is not None else None,
    )


def make_page(
    user,
    *,
    at: datetime = T0,
    incident: Incident | None = None,
    subject: str = "s",
    text: str = "Checkout needs you",
) -> Notification:
    """A page to `user`'s one contact method, queued by notify.sending as escalation queues
    it (pending, due at `at`)."""
    (row,) = sending.users_notify(
        users=[user],
        reason=NotificationReason.ESCALATION,
        subject=subject,
        text=text,
        at=at,
        incident=incident,
    )[user.pk]
    return row


def make_finished_page(
    user, incident: Incident, *, at: datetime, status: str = NotificationStatus.SENT
) -> Notification:
    """A page by email already finished at `at`. Written directly: notify.sending queues
    pending rows for contact methods and only sending finishes them."""
    return Notification.objects.create(
        incident=incident,
        user=user,
        channel=Channel.EMAIL,
        endpoint="127.0.0.1:25",
        reason=NotificationReason.ESCALATION,
        subject="page",
        text="page",
        status=status,
        created_at=at,
        next_attempt_at=at,
        finished_at=at,
    )
