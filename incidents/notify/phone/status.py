"""Twilio's status callbacks: how each text and call ended up, recorded on its attempt
(Notification.delivery_status, found by the SID the transport kept in provider_id). A text
that failed or was undelivered, or a call that was busy, unanswered or failed, means the
person was not reached: their next rule step fires at once (pages.page_hurry) instead of
after its delay.

Calls are placed with answering-machine detection: a call that a machine picked up
(Twilio's AnsweredBy `machine_*`, or `fax`), told by the request for the call's TwiML or
by the status callback, did not reach the person either. It is recorded as
`answered-by-machine` and hurries the page like a busy line; a person (`human`) or a
caller Twilio could not tell (`unknown`) counts as answered, as before.

Callbacks may arrive out of order or twice: a status only replaces one that comes before it
in a message's or call's life, so a late "sent" never hides "undelivered" and a repeated
failure hurries the page once.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from incidents.models import Channel, Notification
from incidents.notify import pages

# A call a machine answered (voicemail, fax): recorded as its delivery status.
MACHINE = "answered-by-machine"
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
        # Final like "completed", which it replaces: a callback saying "completed" after
        # the TwiML request told of a machine does not hide it.
        MACHINE: 6,
    },
}
NOT_REACHED = {
    Channel.SMS: frozenset({"failed", "undelivered"}),
    Channel.VOICE: frozenset({"busy", "no-answer", "failed", MACHINE}),
}
MAX_STATUS = 32


def answered_by_machine(answered_by: str) -> bool:
    """Twilio's AnsweredBy: machine_start (Enable), machine_end_beep / _silence / _other
    (DetectMessageEnd), fax; human and unknown are taken as the person."""
    value = answered_by.strip().lower()
    return value.startswith("machine_") or value == "fax"


def delivery_status_record(
    *, sid: str, status: str, now: datetime, answered_by: str = "", notification_id=None
) -> str:
    """Record one status callback (or, with `notification_id`, what the request for a
    call's TwiML said about who answered). Returns recorded, hurried, stale or unknown."""
    status = status.strip().lower()[:MAX_STATUS]
    with transaction.atomic():
        rows = Notification.objects.select_for_update()
        if notification_id is not None:
            rows = rows.filter(pk=notification_id, channel=Channel.VOICE)
        else:
            rows = rows.filter(provider_id=sid, channel__in=list(NOT_REACHED))
        row = rows.first()
        if row is None:
            return "unknown"
        if row.channel == Channel.VOICE and answered_by_machine(answered_by):
            status = MACHINE
            row.error = f"Twilio: AnsweredBy={answered_by.strip()[:40]}; the person was not reached"
        order = _ORDER[row.channel]
        if order.get(status, 0) <= order.get(row.delivery_status, 0):
            return "stale"
        row.delivery_status, row.delivery_updated_at = status, now
        row.save(update_fields=["delivery_status", "delivery_updated_at", "error"])
        if status not in NOT_REACHED[row.channel]:
            return "recorded"
        page_ids = {row.page_id, *row.bundled.values_list("page_id", flat=True)} - {None}
    for page_id in sorted(page_ids):
        pages.page_hurry(page_id=page_id, now=now)
    return "hurried"
