"""A user's own contact methods: add, change preferences, delete, and send a test through the
real transport. Addresses are checked by incidents.notify.address (the model's clean() uses
the same rule). Additions, changes and deletions are audited; webhook secrets never are,
and webhook URLs only as scheme and host (their paths often are secrets too)."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record, diff
from core.errors import FieldErrors
from incidents.models import (
    Channel,
    ContactMethod,
    Notification,
    NotificationReason,
    NotificationStatus,
)
from incidents.notify import apprise_url, transports, verification
from incidents.notify.address import address_problem, redacted
from incidents.notify.transports import TransportError

log = logging.getLogger(__name__)

MAX_METHODS_PER_USER = 20
# Tests send real messages to an address the user typed: one per method per interval.
TEST_INTERVAL = timedelta(seconds=30)
PREFERENCES = ("enabled", "notify_escalations", "notify_handoffs")


class TestTooSoon(Exception):
    def __init__(self, retry_at: datetime, now: datetime):
        self.retry_at = retry_at
        self.retry_after = max(1, int((retry_at - now).total_seconds()) + 1)
        super().__init__(f"A test was sent moments ago; try again in {self.retry_after} seconds.")


def _label(method: ContactMethod) -> str:
    return f"{method.get_kind_display()} {redacted(method.kind, method.address)}"


def _check_preferences(fields: dict[str, object]) -> None:
    errors = {
        name: "Expected true or false."
        for name in PREFERENCES
        if name in fields
        if not isinstance(fields[name], bool)
    }
    errors.update({name: "Cannot be changed." for name in sorted(set(fields) - set(PREFERENCES))})
    if errors:
        raise FieldErrors(errors)


@transaction.atomic
def contact_method_create(
    *,
    user,
    kind: str,
    address: str,
    enabled: bool = True,
    notify_escalations: bool = True,
    notify_handoffs: bool = False,
) -> ContactMethod:
    """A new contact method; a webhook's signing secret is generated here and is readable
    on the returned object only (show it once)."""
    if kind not in Channel.values:
        raise FieldErrors({"kind": f"Expected one of {', '.join(Channel.values)}."})
    problem = address_problem(kind, address)
    if problem:
        raise FieldErrors({"address": problem})
    preferences = {
        "enabled": enabled,
        "notify_escalations": notify_escalations,
        "notify_handoffs": notify_handoffs,
    }
    _check_preferences(preferences)
    # Serialise a user's own additions so the limit and the duplicate check hold.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    mine = ContactMethod.objects.filter(user=user)
    secret_target = ""
    if kind == Channel.APPRISE:
        # The URL carries tokens: kept encrypted; the address shows it masked.
        secret_target, address = address, apprise_url.masked(apprise_url.plugin(address))
        if any(m.secret_target == secret_target for m in mine.filter(kind=kind)):
            raise FieldErrors({"address": "You already have this contact method."})
    elif mine.filter(kind=kind, address=address).exists():
        raise FieldErrors({"address": "You already have this contact method."})
    if mine.count() >= MAX_METHODS_PER_USER:
        raise FieldErrors({"address": f"At most {MAX_METHODS_PER_USER} contact methods each."})
    # Unverified until the code sent through it comes back, or for Slack until its owner
    # presses "This is me" in the DM (incidents.notify.verification, .slack.linking).
    method = ContactMethod.objects.create(
        user=user, kind=kind, address=address, secret_target=secret_target, **preferences
    )
    audit_record(
        actor=user,
        action="contact_method.created",
        obj=method,
        summary=f"{user.get_username()} added contact method {_label(method)}",
        changes={"kind": kind, "address": redacted(kind, address), **preferences},
    )
    verification.verification_send(method=method)
    method.refresh_from_db(fields=["verify_sent_at"])
    return method


@transaction.atomic
def contact_method_update(*, actor, method: ContactMethod, **fields: object) -> ContactMethod:
    """Turn a method on or off, or choose what it receives. Kind and address never change
    (add a new method instead), so a secret always belongs to the URL it was shown for."""
    _check_preferences(fields)
    before = {name: getattr(method, name) for name in fields}
    for name, value in fields.items():
        setattr(method, name, value)
    if fields:
        method.save(update_fields=list(fields))
    changes = diff(before, {name: getattr(method, name) for name in fields})
    if changes:
        audit_record(
            actor=actor,
            action="contact_method.updated",
            obj=method,
            summary=f"{method.user.get_username()} changed contact method {_label(method)}",
            changes=changes,
        )
    return method


@transaction.atomic
def contact_method_delete(*, actor, method: ContactMethod) -> None:
    """Pages already sent keep their rows (their contact method becomes empty); pages still
    queued for this method are skipped when their turn comes."""
    audit_record(
        actor=actor,
        action="contact_method.deleted",
        obj=method,
        summary=f"{method.user.get_username()} removed contact method {_label(method)}",
        changes={"kind": method.kind, "address": redacted(method.kind, method.address)},
    )
    method.delete()


def contact_method_test(*, method: ContactMethod, now: datetime | None = None) -> Notification:
    """Send a test through the method's real transport now, recorded as a Notification row
    (reason "test") with its outcome. No retries, and the circuit breakers are neither
    asked nor told: the user sees what their endpoint answers, and a typo in one person's
    URL cannot open a breaker shared with everyone else's pages."""
    now = now or timezone.now()
    transport = transports.get(method.kind)
    with transaction.atomic():
        # Two clicks at once send one test.
        ContactMethod.objects.select_for_update().filter(pk=method.pk).first()
        last = (
            Notification.objects.filter(contact_method=method, reason=NotificationReason.TEST)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if last is not None and now < last + TEST_INTERVAL:
            raise TestTooSoon(last + TEST_INTERVAL, now)
        row = Notification.objects.create(
            user=method.user,
            contact_method=method,
            channel=method.kind,
            endpoint=transport.endpoint(method),
            reason=NotificationReason.TEST,
            subject="[Pagerline] Test notification",
            text=(
                f"This is a test from Pagerline for {method.user.get_username()}: "
                "pages will reach you here."
            ),
            status=NotificationStatus.SENDING,
            created_at=now,
            next_attempt_at=now,
            claimed_at=now,
        )
    # Sent outside the transaction: a slow endpoint must not hold the lock, and the row says
    # "sending" meanwhile.
    row.contact_method = method
    started = time.monotonic()
    status, error = NotificationStatus.SENT, ""
    try:
        transport.notify(row)
    except TransportError as exc:
        status, error = NotificationStatus.FAILED, str(exc)
    except Exception as exc:
        log.exception("test notification %s failed unexpectedly", row.pk)
        status, error = NotificationStatus.FAILED, f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    Notification.objects.filter(pk=row.pk, status=NotificationStatus.SENDING).update(
        status=status, finished_at=now, error=error[:2000], duration_ms=duration_ms
    )
    row.status, row.error, row.duration_ms, row.finished_at = status, error[:2000], duration_ms, now
    return row
