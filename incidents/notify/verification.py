"""Verifying a contact method: a code sent through the method itself and entered back in the
UI or the API. Until then the method receives no page (incidents.notify.sending
.usable_methods). Slack methods are verified by linking the account instead: what is sent
to them is a "This is me" button, pressed from that same Slack account.

A code is six digits, valid for PAGERLINE_VERIFY_CODE_MINUTES, good for MAX_ATTEMPTS tries;
only its HMAC (keyed with SECRET_KEY and bound to the method) is kept on the method. The
message that carries it goes through the normal queue (retries, circuit breakers); its
stored text shows the code only until it has been sent.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.errors import FieldErrors
from incidents.models import Channel, ContactMethod, Notification, NotificationReason
from incidents.notify import sending
from incidents.notify.address import redacted

MAX_ATTEMPTS = 5
# A new code at most this often per method (each one is a real message to someone).
RESEND_INTERVAL = timedelta(seconds=30)
SUBJECT = "[Pagerline] Your verification code"
# Kinds verified some other way (Slack: linking the account from Slack itself).
NOT_BY_CODE = frozenset({Channel.SLACK})


class CodeTooSoon(Exception):
    def __init__(self, retry_at: datetime, now: datetime):
        self.retry_after = max(1, int((retry_at - now).total_seconds()) + 1)
        super().__init__(f"A code was sent moments ago; try again in {self.retry_after} seconds.")


def code_text(code: str) -> str:
    return (
        f"Your Pagerline verification code is {code}. Enter it where you added this "
        f"contact method; it works for {settings.PAGERLINE_VERIFY_CODE_MINUTES} minutes."
    )


def _digest(method_id: int, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"verify:{method_id}:{code}".encode(), hashlib.sha256).hexdigest()


def verification_send(*, method: ContactMethod, now: datetime | None = None) -> Notification:
    """Queue a new code through the method; earlier codes stop working."""
    now = now or timezone.now()
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        if method.verified_at is not None:
            raise FieldErrors({"code": "This contact method is already verified."})
        if method.verify_sent_at is not None and now < method.verify_sent_at + RESEND_INTERVAL:
            raise CodeTooSoon(method.verify_sent_at + RESEND_INTERVAL, now)
        if method.kind in NOT_BY_CODE:
            return _link_request(method, now)
        code = f"{secrets.randbelow(10**6):06d}"
        method.verify_code_hash = _digest(method.pk, code)
        method.verify_sent_at = now
        method.verify_attempts = 0
        method.save(update_fields=["verify_code_hash", "verify_sent_at", "verify_attempts"])
        (row,) = sending.methods_notify(
            methods=[method],
            reason=NotificationReason.VERIFY,
            subject=SUBJECT,
            text=code_text(code),
            at=now,
        )
    return row


def _link_request(method: ContactMethod, now: datetime) -> Notification:
    """Slack: a DM with a "This is me" button (the Slack transport draws it for this
    reason); pressing it from the same Slack account links it (incidents.notify.slack)."""
    method.verify_sent_at = now
    method.save(update_fields=["verify_sent_at"])
    (row,) = sending.methods_notify(
        methods=[method],
        reason=NotificationReason.VERIFY,
        subject="[Pagerline] Link your Slack account",
        text="Pages reach this account once you confirm; your presses then act as you.",
        at=now,
    )
    return row


def verification_check(*, method: ContactMethod, code: str, now: datetime | None = None):
    """Verify the method with `code`; FieldErrors on "code" says what is wrong. A wrong
    code uses up one of the attempts, even though the error rolls nothing else back."""
    now = now or timezone.now()
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        method = ContactMethod.objects.select_for_update().get(pk=method.pk)
        if method.verified_at is not None:
            return method
        problem = _problem(method, code, now)
        if problem is None:
            method.verified_at = now
            method.verify_code_hash = ""
            method.save(update_fields=["verified_at", "verify_code_hash"])
            Notification.objects.filter(
                contact_method=method, reason=NotificationReason.VERIFY
            ).update(text=sending.CODE_SENT_TEXT)
            audit_record(
                actor=method.user,
                action="contact_method.verified",
                obj=method,
                summary=f"{method.user.get_username()} verified contact method "
                f"{method.get_kind_display()} {redacted(method.kind, method.address)}",
                changes={},
            )
            return method
        if problem.startswith("Wrong"):
            method.verify_attempts += 1
            method.save(update_fields=["verify_attempts"])
    raise FieldErrors({"code": problem})


def _problem(method: ContactMethod, code: str, now: datetime) -> str | None:
    if not method.verify_code_hash or method.verify_sent_at is None:
        return "No code has been sent to this contact method; send one first."
    if now > method.verify_sent_at + timedelta(minutes=settings.PAGERLINE_VERIFY_CODE_MINUTES):
        return "This code has expired; send a new one."
    if method.verify_attempts >= MAX_ATTEMPTS:
        return "Too many wrong codes; send a new one."
    if not (code.isdigit() and len(code) == 6):
        return "Enter the six digits of the code."
    if not hmac.compare_digest(method.verify_code_hash, _digest(method.pk, code)):
        left = MAX_ATTEMPTS - method.verify_attempts - 1
        return f"Wrong code; {left} tries left." if left else "Wrong code; send a new one."
    return None
