"""What a notification says, shared by every channel."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from incidents.notify import phone_text


def incident_url(incident) -> str:
    return f"{settings.PAGERLINE_BASE_URL}/incidents/{incident.pk}/"


def context(notification) -> dict[str, Any]:
    incident = notification.incident
    return {
        "notification": notification,
        "incident": incident,
        "incident_url": incident_url(incident) if incident else "",
        "base_url": settings.PAGERLINE_BASE_URL,
    }


def payload(notification) -> dict[str, Any]:
    """The webhook body: Slack-compatible `text`, plus structured fields for other receivers."""
    incident = notification.incident
    text = notification.text
    body: dict[str, Any] = {
        "text": text,
        "subject": notification.subject,
        "reason": notification.reason,
        "notification_id": notification.retry_of_id or notification.pk,
        "attempt": notification.attempt,
        "incident": None,
    }
    if incident is not None:
        url = incident_url(incident)
        body["text"] = f"{text}\n<{url}|Open incident #{incident.pk}>"
        body["incident"] = {
            "id": incident.pk,
            "title": incident.title,
            "status": incident.status,
            "severity": incident.severity,
            "service": incident.service.name,
            "url": url,
        }
    return body


def incidents_of(notification) -> list:
    """The incidents one message names: the notification's own and those of the pages
    bundled into it (Notification.bundled_into), once each, by number."""
    found = {notification.incident.pk: notification.incident} if notification.incident else {}
    if notification.pk is not None:
        for row in notification.bundled.select_related("incident__service").exclude(incident=None):
            found.setdefault(row.incident.pk, row.incident)
    return [found[pk] for pk in sorted(found)]


def phone_page(incident) -> phone_text.Page:
    """An incident as a text message or a call names it."""
    return phone_text.Page(
        incident_id=incident.pk,
        severity=incident.severity,
        service=incident.service.name,
        title=incident.title,
    )


def phone_pages(notification) -> list[phone_text.Page]:
    return [phone_page(incident) for incident in incidents_of(notification)]
