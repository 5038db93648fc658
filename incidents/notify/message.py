"""What a notification says, shared by every channel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from incidents.models import NotificationReason
from incidents.notify import links

# Messages for these reasons page someone about an incident: they carry action links.
PAGING_REASONS = frozenset({NotificationReason.ESCALATION, NotificationReason.FALLBACK})


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


def links_for(notification) -> dict[str, str]:
    """{"acknowledge": url, "resolve": url} minted for this message's recipient and
    channel, or {} when the message is not a page about an incident."""
    incident = notification.incident
    if incident is None or notification.reason not in PAGING_REASONS:
        return {}
    return links.links_mint(
        incident=incident,
        user_id=notification.user_id,
        channel=notification.channel,
        now=timezone.now(),
    )


def plain_text(notification) -> str:
    """The page as plain text for chat services: what happened, where to see it, and the
    links to acknowledge or resolve it from the message."""
    lines = [notification.text]
    incident = notification.incident
    if incident is not None:
        lines.append(f"Open incident #{incident.pk}: {incident_url(incident)}")
        for action, url in links_for(notification).items():
            lines.append(f"{action.capitalize()}: {url}")
    return "\n".join(lines)
