"""Reads for maintenance windows, scoped to the teams the user may see."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from incidents.models import (
    MaintenanceWindow,
)
from oncall.selectors import teams_for


def maintenance_windows_for(user) -> QuerySet[MaintenanceWindow]:
    return (
        MaintenanceWindow.objects.filter(team__in=teams_for(user))
        .select_related("team", "created_by")
        .prefetch_related("services")
    )


def active_maintenance(user, *, now: datetime | None = None) -> list[MaintenanceWindow]:
    """Windows in the user's teams that hold paging right now."""
    now = now or timezone.now()
    return list(maintenance_windows_for(user).active_at(now).order_by("ends_at"))
