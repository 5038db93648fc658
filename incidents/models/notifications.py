"""Where people want to be paged, every attempt to page them, and the health of each
outbound endpoint (circuit breakers)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.crypto import EncryptedTextField


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (Slack-compatible)"
    SMS = "sms", "SMS"
    VOICE = "voice", "Phone call"
    SLACK = "slack", "Slack"
    # Microsoft Teams, Discord, Telegram, Matrix, ntfy, Pushover... through the apprise library.
    APPRISE = "apprise", "Apprise (Teams, Discord, Telegram, ntfy...)"


def _new_secret() -> str:
    return secrets.token_hex(32)


class ContactMethod(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_methods"
    )
    kind = models.CharField(max_length=16, choices=Channel.choices)
    # What `kind` reaches: an email address, an http(s) URL, a phone number in E.164 form
    # (+4915112345678), a Slack user id (U0123ABCD), or an Apprise URL with its secrets
    # masked (the whole URL is in `secret_target`).
    address = models.CharField(max_length=1000)
    # The Apprise URL itself (it carries tokens), encrypted at rest (core.crypto).
    secret_target = EncryptedTextField(blank=True, default="")
    # Pages go only to verified methods: a code sent through the method was entered back
    # (for Slack: the account was linked). Methods older than verification count as verified.
    verified_at = models.DateTimeField(null=True, blank=True)
    verify_code_hash = models.CharField(max_length=64, blank=True)
    verify_sent_at = models.DateTimeField(null=True, blank=True)
    verify_attempts = models.PositiveSmallIntegerField(default=0)
    # The person replied STOP to an SMS (the carrier blocks further messages until START).
    opted_out_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    notify_escalations = models.BooleanField(default=True)
    notify_handoffs = models.BooleanField(default=False)
    # Webhook bodies are signed with it (X-Pagerline-Signature), so receivers can trust them.
    secret = models.CharField(max_length=64, default=_new_secret)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.address}"


class NotificationStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    # Not attempted (the endpoint's circuit was open); a pending retry row follows it.
    SKIPPED = "skipped"


class NotificationReason(models.TextChoices):
    ESCALATION = "escalation", "Escalation"
    FALLBACK = "fallback", "Fallback (a step reached nobody)"
    HANDOFF = "handoff", "On-call handoff"
    # Sent by the user from their contact methods page, to check the address works.
    TEST = "test", "Test"
    # "Send me a test page": the user's own notification rules run with a test message.
    TEST_PAGE = "test_page", "Test page"
    # The code that verifies a new contact method.
    VERIFY = "verify", "Verification code"


class Notification(models.Model):
    """One attempt to reach one person through one contact method. A retry is a new row
    (`retry_of` points at the first attempt), so the history of attempts is kept."""

    incident = models.ForeignKey(
        "incidents.Incident",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    contact_method = models.ForeignKey(
        ContactMethod, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # host:port of the webhook or SMTP server: the circuit breaker's key.
    endpoint = models.CharField(max_length=300)
    reason = models.CharField(max_length=16, choices=NotificationReason.choices)
    subject = models.CharField(max_length=300)
    text = models.TextField()
    status = models.CharField(
        max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="retries"
    )
    created_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The personal notification rules that made this page, and the step that fired it.
    page = models.ForeignKey(
        "incidents.PersonalPage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notifications",
    )
    # Sent inside another row's message (a bundle of pages to one person on one channel).
    bundled_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="bundled"
    )
    # The provider's id of what was sent (Twilio message or call SID, Slack message ts) and
    # the delivery status it reported afterwards (Twilio status callbacks).
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    delivery_status = models.CharField(max_length=32, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                name="notification_unfinished_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
            # A contact method's pages waiting or being sent, oldest first: what bundling
            # reads for each new page and claim, however long the method's history.
            models.Index(
                fields=["contact_method", "id"],
                name="notification_method_open_idx",
                condition=Q(status__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.user_id} ({self.status}, attempt {self.attempt})"


class CircuitBreaker(models.Model):
    """The breaker of one outbound endpoint, shared by every worker process.
    Its transitions are the pure functions of incidents.notify.breaker."""

    endpoint = models.CharField(max_length=300, unique=True)
    state = models.CharField(max_length=16, default="closed")
    failures = models.PositiveIntegerField(default=0)
    opened_at = models.DateTimeField(null=True, blank=True)
    probe_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["endpoint"]

    def __str__(self) -> str:
        return f"{self.endpoint} ({self.state})"
