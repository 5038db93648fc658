"""Storms: nobody gets 300 text messages.

Pages (escalation and fallback notifications) to one contact method go out one message at
a time. The first goes at once. Pages that queue up while an earlier message to the same
method is being sent wait for it; pages that the channel's limit holds back
(PAGERLINE_CHANNEL_INTERVAL_SECONDS, e.g. one SMS per person per 30 s) wait for the limit;
then everything waiting goes out together as one message, a bundle: the first row carries
it and the others point at it (Notification.bundled_into).

Every claim and every release takes the contact method's row lock, so a sender that
finishes and a page that arrives meanwhile cannot miss each other: either the page sees
the method free and goes itself, or the sender sees the page waiting and wakes it.

A new page gets a send task of its own only when nothing ahead of it will carry it
(tasks_needed): in a storm, one task per message rather than one per page (measured in
docs/performance.md, "Paging storm").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q

from incidents.models import (
    ContactMethod,
    IncidentStatus,
    Notification,
    NotificationReason,
    NotificationStatus,
)

BUNDLED_REASONS = (NotificationReason.ESCALATION, NotificationReason.FALLBACK)
# An ETA may arrive a moment early (clock skew between hosts).
EARLY = timedelta(seconds=1)


@dataclass
class Claim:
    """What one send task got: `row` carries the message, `others` ride along in it.
    `outcome` says why there is nothing to send (not_claimed, waiting, held, skipped)."""

    row: Notification | None = None
    others: list[Notification] = field(default_factory=list)
    skipped: list[Notification] = field(default_factory=list)
    outcome: str = "claimed"
    hold_until: datetime | None = None


def _interval(channel: str) -> timedelta:
    seconds = settings.PAGERLINE_CHANNEL_INTERVAL_SECONDS.get(channel, 0)
    return timedelta(seconds=seconds)


def _claim_timeout() -> timedelta:
    return timedelta(seconds=settings.PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS)


def claim(*, notification_id: int, now: datetime) -> Claim:
    """Claim the row for sending; for a page, together with every other page due for the
    same contact method. Pages of incidents that are no longer triggered are skipped."""
    with transaction.atomic():
        due = Notification.objects.filter(
            pk=notification_id,
            status=NotificationStatus.PENDING,
            next_attempt_at__lte=now + EARLY,
        )
        head = due.values("contact_method_id", "reason", "channel").first()
        if head is None:
            return Claim(outcome="not_claimed")
        method_id = head["contact_method_id"]
        if head["reason"] not in BUNDLED_REASONS or method_id is None:
            if not due.update(status=NotificationStatus.SENDING, claimed_at=now):
                return Claim(outcome="not_claimed")
            return Claim(row=_load(notification_id))
        # Serialise claims and releases of this method's pages.
        ContactMethod.objects.select_for_update().filter(pk=method_id).first()
        pages = Notification.objects.filter(contact_method_id=method_id, reason__in=BUNDLED_REASONS)
        if pages.filter(
            status=NotificationStatus.SENDING, claimed_at__gt=now - _claim_timeout()
        ).exists():
            return Claim(outcome="waiting")  # the sender wakes it when done (release)
        hold_until = _held_until(pages, head["channel"], now)
        if hold_until is not None:
            waiting = pages.filter(
                status=NotificationStatus.PENDING, next_attempt_at__lt=hold_until
            )
            waiting.update(next_attempt_at=hold_until)
            return Claim(outcome="held", hold_until=hold_until)
        ids = list(
            pages.filter(status=NotificationStatus.PENDING, next_attempt_at__lte=now + EARLY)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)
        )
        if notification_id not in ids:
            return Claim(outcome="not_claimed")
        rows = list(
            Notification.objects.select_related("contact_method", "incident__service")
            .filter(pk__in=ids)
            .order_by("created_at", "id")
        )
        live = [
            r for r in rows if r.incident is None or r.incident.status == IncidentStatus.TRIGGERED
        ]
        skipped = [r for r in rows if r not in live]
        for row in skipped:
            error = f"incident is {row.incident.status}"
            Notification.objects.filter(pk=row.pk).update(
                status=NotificationStatus.SKIPPED, claimed_at=now, finished_at=now, error=error
            )
            row.status, row.error = NotificationStatus.SKIPPED, error
        if not live:
            return Claim(skipped=skipped, outcome="skipped")
        head_row, others = live[0], live[1:]
        Notification.objects.filter(pk=head_row.pk).update(
            status=NotificationStatus.SENDING, claimed_at=now
        )
        Notification.objects.filter(pk__in=[r.pk for r in others]).update(
            status=NotificationStatus.SENDING, claimed_at=now, bundled_into=head_row
        )
        for row in live:
            row.status, row.claimed_at = NotificationStatus.SENDING, now
        for row in others:
            row.bundled_into_id = head_row.pk
        return Claim(row=head_row, others=others, skipped=skipped)


def _load(notification_id: int) -> Notification:
    return Notification.objects.select_related("contact_method", "incident__service").get(
        pk=notification_id
    )


def _held_until(pages, channel: str, now: datetime) -> datetime | None:
    """When the channel's limit lets the next message to this method go, if later than now."""
    interval = _interval(channel)
    if not interval:
        return None
    last = pages.filter(status=NotificationStatus.SENT).aggregate(last=Max("claimed_at"))["last"]
    if last is None or last + interval <= now + EARLY:
        return None
    return last + interval


def tasks_needed(*, rows: list[Notification], now: datetime) -> list[int]:
    """Which of these new pages, just committed, need a send task of their own.

    A page needs none when another page of its contact method is already being sent, or is
    pending, older and due no later than this one could go. No lock: this reads after the
    page committed, and whatever will move the page ahead reads after it too, so it takes
    this one along. A pending page's claim takes every due page of the method; every claim
    ends (sent, failed, dropped or skipped) with a wake-up of what still waits
    (next_waiting, after the final status is stored); a page held by the channel's limit
    has a task at the limit's end. A task or wake-up lost with a crashed worker or broker
    leaves its pages pending: the beat re-drive sends them (sending.notifications_redrive).
    One indexed look per contact method (the first open page of the method answers it).
    """
    first: dict[int, Notification] = {}  # the oldest new page of each method
    for row in sorted(rows, key=lambda row: row.pk, reverse=True):
        if row.contact_method_id is not None:
            first[row.contact_method_id] = row
    needed = {row.pk for row in rows if row.contact_method_id is None}
    for method_id, row in first.items():
        pages = Notification.objects.filter(contact_method_id=method_id, reason__in=BUNDLED_REASONS)
        ready = now + EARLY
        # Held by the channel's limit: every page due by its end goes then, whoever claims it.
        held = _held_until(pages, row.channel, now) if _interval(row.channel) else None
        ahead = pages.filter(
            Q(status=NotificationStatus.SENDING, claimed_at__gt=now - _claim_timeout())
            | Q(
                status=NotificationStatus.PENDING,
                pk__lt=row.pk,
                next_attempt_at__lte=max(ready, held or ready),
            )
        )
        if not ahead.exists():
            needed.add(row.pk)
    return [row.pk for row in rows if row.pk in needed]


def next_waiting(*, contact_method_id: int | None, now: datetime) -> tuple[int, datetime] | None:
    """After a message to the method went (or failed): the page that waited for it, and when
    it may go (the channel's limit); None when nothing waits."""
    if contact_method_id is None:
        return None
    with transaction.atomic():
        ContactMethod.objects.select_for_update().filter(pk=contact_method_id).first()
        pages = Notification.objects.filter(
            contact_method_id=contact_method_id, reason__in=BUNDLED_REASONS
        )
        first = (
            pages.filter(status=NotificationStatus.PENDING)
            .order_by("next_attempt_at", "id")
            .values_list("pk", "next_attempt_at", "channel")
            .first()
        )
        if first is None:
            return None
        pk, at, channel = first
        hold_until = _held_until(pages, channel, now)
        return pk, max(at, hold_until or now)
