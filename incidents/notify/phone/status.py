"""Twilio's status callbacks: how each text and call ended up, recorded on its attempt
(Notification.delivery_status, found by the SID the transport kept in provider_id). A text
that failed or was undelivered, or a call that was busy, unanswered or failed, means the
person was not reached: their next rule step fires at once (pages.page_hurry) instead of
after its delay.

Callbacks may arrive out of order or twice: a status only replaces one that comes before it
in a message's or call's life, so a late "sent" never hides "undelivered" and a repeated
failure hurries the page once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from incidents.models import Channel, Notification
from incidents.notify import pages

# Where a status comes in the life of a message or a call; later ones replace earlier ones.
_ORDER = {
    Channel.SMS: {
        "accepted": 1,
        "scheduled": 1,
        "queued": 2,
        "sending": 3,
        "sent": 4,
        "delivered": 5,
        "undelivered": 5,
        "failed": 5,
        "canceled": 5,
        "read": 6,
    },
    Channel.VOICE: {
        "queued": 1,
        "initiated": 2,
        "ringing": 3,
        "in-progress": 4,
        "completed": 5,
        "busy": 5,
        "no-answer": 5,
        "failed": 5,
        "canceled": 5,
    },
}
NOT_REACHED = {
    Channel.SMS: frozenset({"failed", "undelivered"}),
    Channel.VOICE: frozenset({"busy", "no-answer", "failed"}),
}
MAX_STATUS = 32


def delivery_status_record(*, sid: str, status: str, now: datetime) -> str:
    """Record one status callback. Returns recorded, hurried, stale or unknown."""
    status = status.strip().lower()[:MAX_STATUS]
    with transaction.atomic():
        row = (
            Notification.objects.select_for_update()
            .filter(provider_id=sid, channel__in=list(NOT_REACHED))
            .first()
        )
        if row is None:
            return "unknown"
        order = _ORDER[row.channel]
        if order.get(status, 0) <= order.get(row.delivery_status, 0):
            return "stale"
        row.delivery_status, row.delivery_updated_at = status, now
        row.save(update_fields=["delivery_status", "delivery_updated_at"])
        if status not in NOT_REACHED[row.channel]:
            return "recorded"
        page_ids = {row.page_id, *row.bundled.values_list("page_id", flat=True)} - {None}
    for page_id in sorted(page_ids):
        pages.page_hurry(page_id=page_id, now=now)
    return "hurried"
