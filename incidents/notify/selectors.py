"""Reads for notifications: a person's own contact methods, notification rules and recent
notifications, the notifications of an incident, and the circuit breakers of outbound
endpoints."""

from __future__ import annotations

from django.db.models import QuerySet

from incidents.models import (
    CircuitBreaker,
    ContactMethod,
    Incident,
    Notification,
    NotificationRule,
)

# --- contact methods --------------------------------------------------------------------------


def contact_methods_of(user) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user).order_by("id")


def recent_notifications_of(user, *, limit: int = 20) -> list[Notification]:
    """The latest attempts to reach the user (pages, handoffs, tests), newest first."""
    return list(
        Notification.objects.filter(user=user)
        .select_related("contact_method", "incident")
        .order_by("-created_at", "-id")[:limit]
    )


# (from incidents.notify.selectors)


def notifications_for(incident: Incident) -> list[Notification]:
    """Every attempt to page someone about the incident, oldest first."""
    return list(
        Notification.objects.filter(incident=incident)
        .select_related("user", "contact_method")
        .order_by("created_at", "id")
    )


def circuit_breakers() -> QuerySet[CircuitBreaker]:
    return CircuitBreaker.objects.order_by("endpoint")


# --- notification rules -----------------------------------------------------------------------


def notification_rules_of(user) -> QuerySet[NotificationRule]:
    """The user's own rules, high urgency first, each list in the order its steps fire."""
    return (
        NotificationRule.objects.filter(user=user)
        .select_related("contact_method")
        .order_by("urgency", "delay_seconds", "contact_method_id", "id")
    )
