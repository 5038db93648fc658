"""Maintenance windows: planned work during which alerts still open incidents but nobody is
paged. Validation lives here, shared by the HTML form and the API."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.errors import FieldErrors
from core.instants import utc_instant
from incidents.escalation import runs
from incidents.models import MaintenanceWindow, Service
from oncall.models import Team


def maintenance_create(
    *,
    team: Team,
    services: list[Service],
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    created_by,
    now: datetime | None = None,
) -> MaintenanceWindow:
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "say why (it is shown on every incident it covers)"})
    if len(reason) > 500:
        raise FieldErrors({"reason": "at most 500 characters"})
    if not services:
        raise FieldErrors({"services": "choose at least one service"})
    foreign = [s.name for s in services if s.team_id != team.pk]
    if foreign:
        raise FieldErrors({"services": f"not services of {team.name}: {', '.join(foreign)}"})
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if timezone.is_naive(value):
            raise FieldErrors({field: "needs a time zone"})
        if utc_instant(value) is None:
            raise FieldErrors({field: "must be between 1970 and 2999"})
    if ends_at <= starts_at:
        raise FieldErrors({"ends_at": "must be after starts_at"})
    if ends_at <= now:
        raise FieldErrors({"ends_at": "is in the past"})
    with transaction.atomic():
        window = MaintenanceWindow.objects.create(
            team=team, starts_at=starts_at, ends_at=ends_at, reason=reason, created_by=created_by
        )
        window.services.set(services)
    return window


def maintenance_end(*, window_id: int, user, now: datetime | None = None) -> MaintenanceWindow:
    """End a window now (or cancel one that has not begun). Held escalations of its
    services are re-checked at once and page unless another window still covers them."""
    now = now or timezone.now()
    with transaction.atomic():
        window = MaintenanceWindow.objects.select_for_update().get(pk=window_id)
        if window.cancelled_at is not None or window.ends_at <= now:
            raise FieldErrors({"window": "has already ended"})
        window.ends_at = max(window.starts_at, now)
        window.cancelled_at = now
        window.save(update_fields=["ends_at", "cancelled_at"])
        service_ids = list(window.services.values_list("pk", flat=True))
        runs.escalations_release(service_ids=service_ids, now=now)
    return window
