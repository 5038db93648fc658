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
