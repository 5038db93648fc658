"""Builders shared by the escalation, notification and maintenance tests."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from incidents.escalation import runs
from incidents.models import (
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    IncidentEscalation,
)
from incidents.timeline import events


def make_policy(team, *steps, repeat=0, fallback=None, name="Primary"):
    """steps: (delay_seconds, [user or ("schedule", id), ...]) pairs."""
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


def email_method(user, address=None, **options):
    return ContactMethod.objects.create(
        verified_at=timezone.now(),
        user=user,
        kind="email",
        address=address or f"{user.username}@example.com",
        **options,
    )


def trigger(service, at: datetime, key="k1", title="Checkout is down"):
    return events.incident_triggered(
        service=service, dedup_key=key, title=title, severity="critical", at=at, source="test"
    )


def fire(incident, now: datetime) -> str:
    """What the ETA task does at `now`: advance with the escalation's current token."""
    current = IncidentEscalation.objects.get(incident=incident)
    return runs.escalation_advance(escalation_id=current.pk, token=current.token, now=now)


def timeline(incident, *kinds: str) -> list[str]:
    wanted = kinds or ("escalated", "escalation_warning", "escalation_exhausted", "in_maintenance")
    return [
        e.data.get("summary", e.kind)
        for e in incident.events.filter(kind__in=wanted).order_by("seq")
    ]
