"""Handoff notices ("you are on call for Primary from 09:00"), sent by the paging side so
they reach people on any channel. oncall.handoff says which are due, claims each one once
and words it; here it goes, at once (not through the delay rules), to every verified method
the person marked for handoffs. Someone who marked none gets it at their account's email
address, as before contact methods could take it."""

from __future__ import annotations

import logging
from datetime import datetime

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from incidents.models import NotificationReason
from incidents.notify import sending
from oncall import handoff

log = logging.getLogger(__name__)


def handoff_notices_send(*, now: datetime | None = None) -> int:
    """Send every due notice once; returns how many went out (queued to contact methods, or
    emailed to the account). A failed account email releases its claim, so the next run (a
    minute later) tries again while the shift is within the notice window; contact methods
    retry through the notification queue."""
    now = now or timezone.now()
    due = handoff.notices_due(now=now)
    if not due:
        return 0
    users, zones = handoff.notice_recipients(due)
    sent = 0
    for notice in due:
        user = users.get(notice.shift.user)
        if user is None:
            continue
        claim = handoff.notice_claim(notice, user)
        if claim is None:
            continue
        subject, body = handoff.notice_message(notice, user, zones.get(user.pk, "UTC"))
        methods = list(sending.usable_methods(user_ids=[user.pk], preference="notify_handoffs"))
        if methods:
            try:
                with transaction.atomic():
                    sending.methods_notify(
                        methods=methods,
                        reason=NotificationReason.HANDOFF,
                        subject=subject,
                        text=body,
                        at=now,
                    )
                    claim.sent_at = now
                    claim.save(update_fields=["sent_at"])
            except Exception:
                log.exception("handoff notice to %s failed; retrying next run", user.pk)
                claim.delete()
                continue
            sent += 1
            continue
        if not user.email:
            claim.skipped_reason = "no email address"
            claim.save(update_fields=["skipped_reason"])
            continue
        try:
            send_mail(subject, body, None, [user.email])
        except Exception:
            log.exception("handoff notice to %s failed; retrying next run", user.email)
            claim.delete()
            continue
        claim.sent_at = timezone.now()
        claim.save(update_fields=["sent_at"])
        sent += 1
    return sent
