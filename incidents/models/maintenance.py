from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from oncall.models import Team


class MaintenanceQuerySet(models.QuerySet):
    def active_at(self, at: datetime) -> MaintenanceQuerySet:
        return self.filter(starts_at__lte=at, ends_at__gt=at)


class MaintenanceWindow(models.Model):
    """Planned work on some services: alerts still open incidents, but nobody is paged.

    Cutting a window short moves `ends_at` to that moment (to `starts_at` for a window that
    never began) and records `cancelled_at`, so "active" is always starts_at <= t < ends_at.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="maintenance_windows")
    services = models.ManyToManyField("incidents.Service", related_name="maintenance_windows")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    reason = models.CharField(max_length=500)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = MaintenanceQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["ends_at", "starts_at"], name="maintenance_span_idx")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.starts_at:%Y-%m-%d %H:%M} UTC)"

    def status_at(self, at: datetime) -> str:
        if self.cancelled_at and self.ends_at <= self.starts_at:
            return "cancelled"
        if at < self.starts_at:
            return "scheduled"
        if at < self.ends_at:
            return "active"
        return "ended early" if self.cancelled_at else "ended"
