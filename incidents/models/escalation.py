"""Escalation policies (what to page, in which order) and the per-incident escalation that
runs a frozen copy of a policy."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from oncall.models import Team


class EscalationPolicy(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="escalation_policies")
    name = models.CharField(max_length=200)
    # How many more times the whole chain runs after its last step (0 = once).
    repeat = models.PositiveSmallIntegerField(default=0)
    # Paged when a step resolves to nobody, so an escalation never waits silently.
    fallback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["team__name", "name"]
        verbose_name_plural = "escalation policies"

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(default=0)
    # Wait after the previous step fired (for the first step: after the trigger).
    delay_seconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["policy_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.policy} step {self.position}"


class EscalationTarget(models.Model):
    """Whom a step pages: a user, or whoever is on call in a schedule at the time.

    `schedule_id` is a plain integer, not a foreign key: schedules live in oncall/ and
    are resolved through `oncall.selectors.oncall_users` when the step fires.
    """

    step = models.ForeignKey(EscalationStep, on_delete=models.CASCADE, related_name="targets")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    schedule_id = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["step_id", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(schedule_id__isnull=True))
                | (Q(user__isnull=True) & Q(schedule_id__isnull=False)),
                name="escalation_target_user_xor_schedule",
            )
        ]

    def __str__(self) -> str:
        return f"user {self.user_id}" if self.user_id else f"schedule {self.schedule_id}"


class EscalationState(models.TextChoices):
    ACTIVE = "active"
    # Waiting for a maintenance window to end before paging.
    HELD = "held"
    STOPPED = "stopped"
    EXHAUSTED = "exhausted"


class IncidentEscalation(models.Model):
    """One incident's run of its (frozen) policy. Only the holder of `token` may advance it."""

    incident = models.OneToOneField(
        "incidents.Incident", on_delete=models.CASCADE, related_name="escalation"
    )
    policy = models.ForeignKey(
        EscalationPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The policy as it was when the incident triggered (incidents.escalation.plan.Plan).
    snapshot = models.JSONField()
    state = models.CharField(max_length=16, choices=EscalationState.choices)
    step_index = models.PositiveSmallIntegerField(default=0)
    round = models.PositiveSmallIntegerField(default=0)
    next_fire_at = models.DateTimeField(null=True, blank=True)
    token = models.CharField(max_length=32, blank=True)
    started_at = models.DateTimeField()
    last_fired_at = models.DateTimeField(null=True, blank=True)
    held_window_id = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_fire_at"],
                name="escalation_due_idx",
                condition=Q(state__in=["active", "held"]),
            )
        ]

    def __str__(self) -> str:
        return f"escalation of incident {self.incident_id} ({self.state})"
