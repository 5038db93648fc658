"""Paging people: create notification rows, send them (one attempt per row), retry with
backoff, and keep each endpoint's circuit breaker. Sending runs in the
`incidents.send_notification` task; everything here is safe to run twice."""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents import counters, task_names
from incidents.models import (
    Channel,
    CircuitBreaker,
    ContactMethod,
    Incident,
    IncidentStatus,
    Notification,
    NotificationReason,
    NotificationStatus,
)
from incidents.notify import breaker, bundling, message, transports
from incidents.notify.transports import TransportError

log = logging.getLogger(__name__)

CODE_SENT_TEXT = "A verification code (not kept once sent)."
# Sent whatever state an incident is in (the others are pages: noise once acknowledged).
UNBOUND_REASONS = frozenset(
    {NotificationReason.HANDOFF, NotificationReason.TEST, NotificationReason.VERIFY}
)
# A task may run a moment before its row is due (clock skew between hosts).
_EARLY = timedelta(seconds=1)


# Called with the rows of a message that failed for good (a bad address, an unknown number):
# incidents.notify.pages registers itself here (IncidentsConfig.ready), so a person's next
# rule step fires at once instead of after its delay, while imports still run one way.
_permanent_failure_followers: list = []


def follow_permanent_failures(follower) -> None:
    if follower not in _permanent_failure_followers:
        _permanent_failure_followers.append(follower)


def _enqueue(notification_id: int, *, eta: datetime | None = None) -> None:
    try:
        current_app.send_task(
            task_names.SEND_NOTIFICATION, args=[notification_id], eta=eta, retry=False
        )
    except Exception:
        # The row is committed; the beat re-drive sends it once the broker is back.
        log.warning("could not enqueue notification %s; the re-drive will", notification_id)


def _enqueue_on_commit(notification_id: int, *, eta: datetime | None = None) -> None:
    transaction.on_commit(lambda: _enqueue(notification_id, eta=eta))


# --- creating ---------------------------------------------------------------------------------


def usable_methods(*, user_ids: list[int], preference: str = "notify_escalations"):
    """The contact methods that may be paged now: enabled, verified, wanted for
    `preference` (notify_escalations or notify_handoffs), not opted out (SMS STOP), and of
    an active user (a deactivated account's running pages go quiet)."""
    return ContactMethod.objects.filter(
        user__in=user_ids,
        user__is_active=True,
        enabled=True,
        verified_at__isnull=False,
        opted_out_at__isnull=True,
        **{preference: True},
    ).order_by("user_id", "id")


def methods_notify(
    *,
    methods,
    reason: str,
    subject: str,
    text: str,
    at: datetime,
    incident: Incident | None = None,
    page=None,
    send_at: datetime | None = None,
) -> list[Notification]:
    """Queue one notification per contact method; sending starts after the caller's
    transaction commits, or at `send_at` (an ETA task, and the re-drive if it is lost)."""
    rows = [
        Notification(
            incident=incident,
            user_id=method.user_id,
            contact_method=method,
            channel=method.kind,
            endpoint=transports.get(method.kind).endpoint(method),
            reason=reason,
            subject=subject[:300],
            text=text,
            created_at=at,
            next_attempt_at=send_at or at,
            page=page,
        )
        for method in methods
    ]
    # bulk_create returns primary keys on PostgreSQL and SQLite >= 3.35.
    created = Notification.objects.bulk_create(rows)
    pages = [row for row in created if row.reason in bundling.BUNDLED_REASONS]
    for row in created:
        if send_at is not None or row not in pages:
            _enqueue_on_commit(row.pk, eta=send_at)
    if pages and send_at is None:
        transaction.on_commit(lambda: _enqueue_pages(pages, at))
    return created


def _enqueue_pages(rows: list[Notification], at: datetime) -> None:
    """After commit: a send task for each new page (made at `at`) that nothing ahead of it
    will carry (bundling.tasks_needed); for all of them when that cannot be decided."""
    try:
        needed = bundling.tasks_needed(rows=rows, now=at)
    except Exception:
        log.warning("could not decide which pages need a task; enqueuing all", exc_info=True)
        needed = [row.pk for row in rows]
    for notification_id in needed:
        _enqueue(notification_id)


def users_notify(
    *,
    users: list,
    reason: str,
    subject: str,
    text: str,
    at: datetime,
    incident: Incident | None = None,
) -> dict[int, list[Notification]]:
    """Queue one notification per usable contact method of each user that wants `reason`,
    all at once (handoff notices, tests of a whole person; pages go through the person's
    rules, incidents.notify.pages).

    Returns {user id: rows}; a user with no row could not be reached.
    """
    preference = "notify_handoffs" if reason == NotificationReason.HANDOFF else "notify_escalations"
    methods = usable_methods(user_ids=[u.pk for u in users], preference=preference)
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for row in methods_notify(
        methods=methods, reason=reason, subject=subject, text=text, at=at, incident=incident
    ):
        by_user[row.user_id].append(row)
    return dict(by_user)


def _retry(*, row: Notification, at: datetime, attempt: int, now: datetime) -> Notification:
    retry = Notification.objects.create(
        incident_id=row.incident_id,
        user_id=row.user_id,
        contact_method_id=row.contact_method_id,
        channel=row.channel,
        endpoint=row.endpoint,
        reason=row.reason,
        subject=row.subject,
        text=row.text,
        attempt=attempt,
        retry_of_id=row.retry_of_id or row.pk,
        page_id=row.page_id,
        created_at=now,
        next_attempt_at=at,
    )
    _enqueue_on_commit(retry.pk, eta=at)
    return retry


# --- sending ----------------------------------------------------------------------------------


def notification_send(*, notification_id: int, now: datetime | None = None) -> str:
    """Make this row's one attempt (for a page: one message carrying every page that waits
    for the same contact method, incidents.notify.bundling); returns its final status, or
    why nothing was sent (not_claimed, waiting, held)."""
    now = now or timezone.now()
    claimed = bundling.claim(notification_id=notification_id, now=now)
    if claimed.hold_until is not None:
        _enqueue_on_commit(notification_id, eta=claimed.hold_until)
    if claimed.row is None:
        if claimed.outcome != "skipped":
            return claimed.outcome
        status = NotificationStatus.SKIPPED
    else:
        status = _attempt(claimed, now)
    # However it ended (sent, failed, dropped), pages that queued behind it may go now.
    _wake_waiting(claimed.row or claimed.skipped[0], now)
    return status


def _attempt(claimed: bundling.Claim, now: datetime) -> str:
    """Send the claimed message; record the outcome on every row it carries."""
    row, rows = claimed.row, [claimed.row, *claimed.others]
    row.bundle = claimed.others
    if row.bundle:
        # One message names them all (in memory: each row keeps its own text).
        row.subject, row.text = message.bundle_summary(rows)
    method = row.contact_method
    incident = row.incident
    paging = row.reason not in UNBOUND_REASONS
    if paging and incident is not None and incident.status != IncidentStatus.TRIGGERED:
        # Someone acknowledged (or it resolved) while this page waited: it is noise now.
        _finish([row], NotificationStatus.SKIPPED, now, error=f"incident is {incident.status}")
        return NotificationStatus.SKIPPED
    if method is None or not method.enabled:
        _finish(rows, NotificationStatus.SKIPPED, now, error="contact method removed or disabled")
        return NotificationStatus.SKIPPED
    decision = breaker_allow(endpoint=row.endpoint, now=now)
    if not decision.allowed:
        with transaction.atomic():
            error = f"circuit open for {row.endpoint}; retrying at {decision.retry_at:%H:%M:%S}"
            _finish(rows, NotificationStatus.SKIPPED, now, error=error)
            for each in rows:
                # Not an attempt at the endpoint, so it does not use up the retry budget.
                _retry(row=each, at=decision.retry_at, attempt=each.attempt, now=now)
        return NotificationStatus.SKIPPED
    started = time.monotonic()
    try:
        transports.get(row.channel).notify(row)
    except Exception as exc:
        duration_ms = int((time.monotonic() - started) * 1000)
        if not isinstance(exc, TransportError):
            log.exception("notification %s failed unexpectedly", row.pk)
            exc = TransportError(f"{type(exc).__name__}: {exc}", permanent=False)
        # A permanent error (4xx, bad address) means the endpoint itself answered.
        breaker_record(endpoint=row.endpoint, ok=exc.permanent, now=now, error=str(exc))
        with transaction.atomic():
            failed = _finish(
                rows, NotificationStatus.FAILED, now, error=str(exc), duration_ms=duration_ms
            )
            for each in rows:
                if not exc.permanent and each.attempt < settings.PAGERLINE_NOTIFY_MAX_ATTEMPTS:
                    wait = breaker.backoff(
                        each.attempt, base_seconds=settings.PAGERLINE_NOTIFY_BACKOFF_SECONDS
                    )
                    _retry(row=each, at=now + wait, attempt=each.attempt + 1, now=now)
            _count_failures(failed)
        if exc.permanent:
            for follower in _permanent_failure_followers:
                follower(rows, now)
        return NotificationStatus.FAILED
    duration_ms = int((time.monotonic() - started) * 1000)
    breaker_record(endpoint=row.endpoint, ok=True, now=now)
    _finish(rows, NotificationStatus.SENT, now, duration_ms=duration_ms)
    if row.reason == NotificationReason.VERIFY and row.channel != Channel.VOICE:
        # The code is out: the row keeps no copy of it (incidents.notify.verification). A
        # call reads it when answered, later: its row is cleared once the code is used.
        Notification.objects.filter(pk=row.pk).update(text=CODE_SENT_TEXT)
    return NotificationStatus.SENT


def _wake_waiting(row: Notification, now: datetime) -> None:
    """A page's message went (or failed): send what waited for it, as one bundle."""
    if row.reason not in bundling.BUNDLED_REASONS:
        return
    waiting = bundling.next_waiting(contact_method_id=row.contact_method_id, now=now)
    if waiting is not None:
        notification_id, at = waiting
        _enqueue(notification_id, eta=at if at > now else None)


def _finish(
    rows: list[Notification], status: str, now: datetime, *, error: str = "", duration_ms=None
) -> list[Notification]:
    """Record how the attempt ended on every row the message carried (one statement).
    A failure (called in a transaction) returns the rows it changed, locked first, so that a
    row the redrive marked "worker lost" meanwhile is counted once, by the redrive."""
    ids = [row.pk for row in rows]
    if status == NotificationStatus.FAILED:
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=ids, status=NotificationStatus.SENDING)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    Notification.objects.filter(pk__in=ids, status=NotificationStatus.SENDING).update(
        status=status, finished_at=now, error=error[:2000], duration_ms=duration_ms
    )
    for row in rows:
        row.status, row.error, row.duration_ms = status, error[:2000], duration_ms
    return [row for row in rows if row.pk in ids]


def _count_failures(rows: list[Notification]) -> None:
    """pagerline_notification_failures_total: one per failed row (a page, a handoff), in
    the transaction that marks them failed, as its last statement."""
    counters.counters_add(
        increments=Counter((counters.NOTIFICATION_FAILURES, row.channel) for row in rows)
    )


def notifications_redrive(*, now: datetime | None = None) -> int:
    """Beat safety net: send rows whose task was lost, and fail-and-retry rows whose worker
    died mid-send (they may have gone out: paging twice beats never paging)."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS)
    for row in Notification.objects.filter(
        status=NotificationStatus.SENDING, claimed_at__lt=stuck_before
    ):
        with transaction.atomic():
            lost = Notification.objects.filter(
                pk=row.pk, status=NotificationStatus.SENDING, claimed_at__lt=stuck_before
            ).update(status=NotificationStatus.FAILED, finished_at=now, error="worker lost")
            if lost and row.attempt < settings.PAGERLINE_NOTIFY_MAX_ATTEMPTS:
                _retry(row=row, at=now, attempt=row.attempt + 1, now=now)
            if lost:
                _count_failures([row])
    overdue = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    ids = list(
        Notification.objects.filter(
            status=NotificationStatus.PENDING, next_attempt_at__lte=overdue
        ).values_list("pk", flat=True)[:500]
    )
    for notification_id in ids:
        _enqueue(notification_id)
    return len(ids)


# --- circuit breakers -------------------------------------------------------------------------


def _state(row: CircuitBreaker) -> breaker.BreakerState:
    return breaker.BreakerState(
        state=row.state, failures=row.failures, opened_at=row.opened_at, probe_at=row.probe_at
    )


def _store(row: CircuitBreaker, state: breaker.BreakerState, **extra) -> None:
    row.state, row.failures = state.state, state.failures
    row.opened_at, row.probe_at = state.opened_at, state.probe_at
    for name, value in extra.items():
        setattr(row, name, value)
    row.save()


def breaker_allow(*, endpoint: str, now: datetime) -> breaker.Decision:
    cooldown = timedelta(seconds=settings.PAGERLINE_BREAKER_COOLDOWN_SECONDS)
    with transaction.atomic():
        row, _ = CircuitBreaker.objects.select_for_update().get_or_create(endpoint=endpoint)
        before = _state(row)
        decision, after = breaker.allow(before, now=now, cooldown=cooldown)
        if after != before:
            _store(row, after)
    return decision


def breaker_record(*, endpoint: str, ok: bool, now: datetime, error: str = "") -> None:
    with transaction.atomic():
        row, _ = CircuitBreaker.objects.select_for_update().get_or_create(endpoint=endpoint)
        before = _state(row)
        if ok:
            after = breaker.record_success(before)
        else:
            after = breaker.record_failure(
                before, now=now, threshold=settings.PAGERLINE_BREAKER_THRESHOLD
            )
        if after != before or error:
            _store(row, after, **({"last_error": error[:2000]} if error else {}))
        if before.state != breaker.CLOSED and after.state == breaker.CLOSED:
            _release_waiting(endpoint=endpoint, now=now)


def _release_waiting(*, endpoint: str, now: datetime) -> None:
    """The circuit closed: send what was held back for it now, not at its retry time."""
    waiting = Notification.objects.filter(
        endpoint=endpoint, status=NotificationStatus.PENDING, next_attempt_at__gt=now
    )
    ids = list(waiting.values_list("pk", flat=True))
    waiting.update(next_attempt_at=now)
    for notification_id in ids:
        _enqueue_on_commit(notification_id)


def breaker_reset(*, endpoint: str, now: datetime | None = None) -> None:
    """Close a breaker by hand (admin action), e.g. after the endpoint was fixed."""
    breaker_record(endpoint=endpoint, ok=True, now=now or timezone.now())
