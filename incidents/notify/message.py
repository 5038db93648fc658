"""What a notification says, shared by every channel."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone

from incidents.models import NotificationReason
from incidents.notify import links, phone_text

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


def _incident_json(incident) -> dict[str, Any]:
    return {
        "id": incident.pk,
        "title": incident.title,
        "status": incident.status,
        "severity": incident.severity,
        "service": incident.service.name,
        "url": incident_url(incident),
    }


def payload(notification) -> dict[str, Any]:
    """The webhook body: Slack-compatible `text`, plus structured fields for other receivers.
    A bundle (several pages in one message) lists every incident in `incidents`."""
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
        body["incident"] = _incident_json(incident)
    bundled = [row.incident for row in items(notification)[1:] if row.incident is not None]
    # Structured fields carry every incident (no links to mint, so no cap).
    if bundled:
        body["incidents"] = [_incident_json(i) for i in [incident, *bundled] if i is not None]
    return body


# A bundle lists at most this many incidents (each with its links); the rest are counted.
MAX_LISTED = 20


def items(notification) -> list:
    """The pages one message carries: the row itself, then those bundled into it."""
    return [notification, *getattr(notification, "bundle", ())]


def listed(notification) -> tuple[list, int]:
    """The pages a message lists one by one, and how many more it only counts."""
    rows = items(notification)
    return rows[:MAX_LISTED], max(0, len(rows) - MAX_LISTED)


def bundle_summary(rows: list) -> tuple[str, str]:
    """Subject and text of one message carrying several pages: "7 new incidents on
    checkout, payments", then one line per incident."""
    incidents = [row.incident for row in rows if row.incident is not None]
    services = list(dict.fromkeys(i.service.name for i in incidents))
    subject = f"[Pagerline] {len(rows)} new incidents on {', '.join(services)}"
    lines = [f"{len(rows)} incidents need you:"]
    lines += [
        f"#{i.pk} {i.severity.upper()} {i.service.name}: {i.title}" for i in incidents[:MAX_LISTED]
    ]
    if len(incidents) > MAX_LISTED:
        lines.append(f"... and {len(incidents) - MAX_LISTED} more: {settings.PAGERLINE_BASE_URL}/")
    return subject[:300], "\n".join(lines)


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
    links to acknowledge or resolve it from the message (each incident's, in a bundle)."""
    lines = [notification.text]
    rows, _ = listed(notification)
    for row in rows:
        incident = row.incident
        if incident is None:
            continue
        lines.append("")
        lines.append(f"#{incident.pk} {incident.title}: {incident_url(incident)}")
        for action, url in links_for(row).items():
            lines.append(f"{action.capitalize()}: {url}")
    return "\n".join(lines)


def incidents_of(notification) -> list:
    """The incidents one message names: the notification's own and those of the pages
    bundled into it (incidents.notify.bundling), once each, by number."""
    found = {row.incident.pk: row.incident for row in items(notification) if row.incident}
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
