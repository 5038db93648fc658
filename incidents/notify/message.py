"""What a notification says, shared by every channel."""

from __future__ import annotations

from typing import Any

from django.conf import settings


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
