"""Failover drills and the metrics read models. Metrics follows the incidents' event log
(the read side); it writes to incidents only through incidents' service functions."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from incidents.models import Incident, Service
from oncall.models import Team


class Drill(models.Model):
    """A planned failover exercise: faults are injected into services and restored, and the
    incidents they cause are measured against per-service targets."""

    class Status(models.TextChoices):
        PLANNED = "planned"
        RUNNING = "running"
        FINISHED = "finished"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="drills")
    name = models.CharField(max_length=200)
    scenario = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Alerts arriving up to this long after a service's restore still belong to the drill.
    grace_seconds = models.PositiveIntegerField(default=900)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class DrillService(models.Model):
    """One drilled service: its targets and the exact fault-injection and restore times."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="targets")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="drill_targets")
    max_mttd_seconds = models.PositiveIntegerField(null=True, blank=True)
    max_mttr_seconds = models.PositiveIntegerField(null=True, blank=True)
    injected_at = models.DateTimeField(null=True, blank=True)
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drill", "service"], name="drill_service_unique")
        ]

    def __str__(self) -> str:
        return f"{self.drill} / {self.service}"


class DrillIncident(models.Model):
    """An incident that belongs to a drill (attached automatically or by a responder).
    An incident belongs to at most one drill."""

    drill = models.ForeignKey(Drill, on_delete=models.CASCADE, related_name="attachments")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="drill_attachment"
    )
    attached_at = models.DateTimeField(auto_now_add=True)
    attached_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    automatic = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.incident} in {self.drill}"


class DrillAttachCursor(models.Model):
    """How far the drill attacher has read the incident event log (last event id seen)."""

    name = models.CharField(max_length=64, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_event_id}"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("weekly reports are immutable: build a new version instead")


class WeeklyReport(models.Model):
    """A frozen snapshot of one team's ISO week. Rebuilding adds a version, never overwrites."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="weekly_reports")
    week = models.CharField(max_length=8)  # ISO week in the team's zone, e.g. "2026-W47"
    version = models.PositiveIntegerField(default=1)
    time_zone = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    payload = models.JSONField()
    built_at = models.DateTimeField()
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["team_id", "-week", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week", "version"], name="weekly_report_team_week_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team} {self.week} v{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("weekly reports are immutable: build a new version instead")
        super().save(*args, **kwargs)


class ReportSubscription(models.Model):
    """A team member who wants the team's weekly report by email."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="report_subscriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="report_subscriptions"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="report_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} subscribes to {self.team}"


class ReportEmail(models.Model):
    """One weekly report emailed to one person: sending again skips who already has it."""

    report = models.ForeignKey(WeeklyReport, on_delete=models.CASCADE, related_name="emails")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="report_email_unique")
        ]

    def __str__(self) -> str:
        return f"{self.report} to {self.address}"


class MttxWeek(models.Model):
    """The exact MTTx of one service's closed ISO week (in its team's zone), production or
    drill incidents: the read model of the figures. Percentiles cannot be merged across
    weeks, so a year of weekly figures reads 52 of these rows instead of every incident.
    Durations are whole microseconds (exact); percentiles are seconds as computed by the SQL.
    Written only by metrics.rollup; a row whose bounds no longer match the team's zone is
    ignored by readers and recomputed."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="mttx_weeks")
    week = models.CharField(max_length=8)  # "2026-W47"
    drills = models.BooleanField(default=False)
    time_zone = models.CharField(max_length=64)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    incidents = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    unacknowledged = models.PositiveIntegerField(default=0)
    mttd_count = models.PositiveIntegerField(default=0)
    mttd_sum_us = models.BigIntegerField(null=True, blank=True)
    mttd_max_us = models.BigIntegerField(null=True, blank=True)
    mttd_p50 = models.FloatField(null=True, blank=True)
    mttd_p90 = models.FloatField(null=True, blank=True)
    mtta_count = models.PositiveIntegerField(default=0)
    mtta_sum_us = models.BigIntegerField(null=True, blank=True)
    mtta_max_us = models.BigIntegerField(null=True, blank=True)
    mtta_p50 = models.FloatField(null=True, blank=True)
    mtta_p90 = models.FloatField(null=True, blank=True)
    mttr_count = models.PositiveIntegerField(default=0)
    mttr_sum_us = models.BigIntegerField(null=True, blank=True)
    mttr_max_us = models.BigIntegerField(null=True, blank=True)
    mttr_p50 = models.FloatField(null=True, blank=True)
    mttr_p90 = models.FloatField(null=True, blank=True)
    # The incident event log position this row reflects (see MttxRollupState).
    rolled_up_through_event_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "drills", "week"], name="mttx_week_service_drills_week"
            )
        ]

    def __str__(self) -> str:
        kind = "drills" if self.drills else "production"
        return f"{self.service_id} {self.week} ({kind})"


class MttxRollupState(models.Model):
    """How far the rollup has followed the incident event log: events after this id may
    have changed closed weeks (a late resolve, a corrected impact start, a drill attach)."""

    name = models.CharField(max_length=64, unique=True)
    rolled_up_through_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} through event {self.rolled_up_through_event_id}"
