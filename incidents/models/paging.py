"""Paging a person: their own notification rules, the run of those rules for one incident,
the one-use links that let them answer from a message, and what came back from the
channels (Slack messages to keep up to date, inbound SMS and calls)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from incidents.models.notifications import Channel, ContactMethod


class Urgency(models.TextChoices):
    HIGH = "high", "High urgency"
    LOW = "low", "Low urgency"


class NotificationRule(models.Model):
    """ "`delay_seconds` after I am paged, use this contact method", per urgency. A user's
    rules for one urgency, ordered by delay, are what one page of them runs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_rules"
    )
    urgency = models.CharField(max_length=8, choices=Urgency.choices)
    delay_seconds = models.PositiveIntegerField(default=0)
    contact_method = models.ForeignKey(
        ContactMethod, on_delete=models.CASCADE, related_name="rules"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["user_id", "urgency", "delay_seconds", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contact_method", "urgency", "delay_seconds"],
                name="notification_rule_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.urgency}: {self.delay_seconds}s -> {self.contact_method_id}"


class PageState(models.TextChoices):
    ACTIVE = "active"
    # Every step fired.
    DONE = "done"
    # Someone acknowledged or resolved the incident, or a later page of the same person
    # for the same incident replaced this one.
    STOPPED = "stopped"


class PersonalPage(models.Model):
    """One person's rules running for one incident, started each time an escalation step
    (or a repeat of the policy) pages them. Steps fire as escalation steps do: a stored
    `next_fire_at`, an ETA task carrying `token`, and the beat auditor for lost tasks; the
    token rotates at each firing, so a step never fires twice."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="personal_pages"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    urgency = models.CharField(max_length=8, choices=Urgency.choices)
    # escalation or fallback (NotificationReason), and why, as the message says it
    # ("escalation step 2", "step 1 reached nobody").
    reason = models.CharField(max_length=16)
    why = models.CharField(max_length=300, blank=True)
    # The rules as they were when the page started: [{"delay_seconds", "methods": [ids]}],
    # one entry per distinct delay, in order.
    steps = models.JSONField(default=list)
    step_index = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=16, choices=PageState.choices)
    started_at = models.DateTimeField()
    next_fire_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "user"], name="personal_page_unique")
        ]
        indexes = [
            models.Index(
                fields=["next_fire_at"],
                name="personal_page_due_idx",
                condition=Q(state="active"),
            )
        ]

    def __str__(self) -> str:
        return f"page of {self.user_id} for incident {self.incident_id} ({self.state})"


class LinkAction(models.TextChoices):
    ACKNOWLEDGE = "acknowledge", "Acknowledge"
    RESOLVE = "resolve", "Resolve"


class ActionToken(models.Model):
    """A link in a message that acknowledges or resolves one incident as one person, without
    signing in. Only the SHA-256 of the token is stored; it works once, until `expires_at`,
    and only while the incident has not moved past its action."""

    token_hash = models.CharField(max_length=64, unique=True)
    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="action_tokens"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    action = models.CharField(max_length=16, choices=LinkAction.choices)
    # The channel of the message that carried the link (recorded on the timeline).
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.action} link for incident {self.incident_id} ({self.user_id})"


class SlackMessage(models.Model):
    """A Slack message about an incident (a DM or a service channel post), redrawn in place
    whenever the incident's state changes."""

    incident = models.ForeignKey(
        "incidents.Incident", on_delete=models.CASCADE, related_name="slack_messages"
    )
    channel_id = models.CharField(max_length=64)
    ts = models.CharField(max_length=32)
    # The incident state last drawn; redrawing is skipped when it has not changed.
    drawn_seq = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel_id", "ts"], name="slack_message_unique")
        ]

    def __str__(self) -> str:
        return f"slack {self.channel_id}/{self.ts} for incident {self.incident_id}"


class InboundMessage(models.Model):
    """What a person sent back through a channel (an SMS reply, keys pressed in a call, a
    Slack button), kept once per provider id: a replayed request changes nothing twice."""

    channel = models.CharField(max_length=16, choices=Channel.choices)
    provider_id = models.CharField(max_length=64)
    sender = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField()
    # What Pagerline did and answered ("acknowledged #123", "unknown code").
    outcome = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "provider_id"], name="inbound_message_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} from {self.sender} ({self.provider_id})"
