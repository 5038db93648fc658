"""Writes for failover drills: create, inject, restore, finish, attach and detach incidents.

Incidents never import metrics: the attacher follows the incident event log from a stored
cursor and writes the incident's timeline entry through incidents' service functions.
Callers check roles (oncall.permissions) before calling these.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from incidents.models import EventKind, Incident, IncidentEvent, Service
from incidents.timeline import drills as incident_drills
from metrics.drill_math import Window, window_for
from metrics.models import Drill, DrillAttachCursor, DrillIncident, DrillService
from oncall.models import Team

log = logging.getLogger(__name__)

CURSOR_NAME = "drill-attach"
# Events are re-read this long after they were recorded: a transaction that took an event
# id early but committed after the cursor moved past it is still seen.
LOOKBACK = timedelta(minutes=2)
# Drills finished longer ago than this no longer take alerts (their grace is long over).
ACTIVE_AFTER_FINISH = timedelta(days=2)
# A chaos tool's clock may run slightly ahead of ours.
CLOCK_SKEW = timedelta(seconds=60)


class DrillError(Exception):
    """Bad input for a drill action (HTTP 400); `field` names the offending field."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class DrillConflict(DrillError):
    """The action does not fit the drill's current state (HTTP 409)."""

    status = 409


@dataclass(frozen=True)
class TargetSpec:
    service: Service
    max_mttd_seconds: int | None = None
    max_mttr_seconds: int | None = None


def drill_create(
    *,
    team: Team,
    name: str,
    targets: list[TargetSpec],
    scenario: str = "",
    grace_seconds: int | None = None,
    user=None,
) -> Drill:
    name = name.strip()
    if not name:
        raise DrillError("name: give the drill a name", field="name")
    if not targets:
        raise DrillError("services: a drill needs at least one service", field="services")
    slugs = [t.service.slug for t in targets]
    if len(set(slugs)) != len(slugs):
        raise DrillError("services: each service may appear once", field="services")
    for target in targets:
        if target.service.team_id != team.pk:
            raise DrillError(
                f"services: {target.service.slug} is not a service of team {team.slug}",
                field="services",
            )
    if grace_seconds is not None and grace_seconds < 0:
        raise DrillError("grace_seconds: must be 0 or more", field="grace_seconds")
    with transaction.atomic():
        drill = Drill.objects.create(
            team=team,
            name=name[:200],
            scenario=scenario,
            created_by=user,
            **({"grace_seconds": grace_seconds} if grace_seconds is not None else {}),
        )
        DrillService.objects.bulk_create(
            DrillService(
                drill=drill,
                service=t.service,
                max_mttd_seconds=t.max_mttd_seconds,
                max_mttr_seconds=t.max_mttr_seconds,
            )
            for t in targets
        )
    return drill


def _locked_target(drill_id: int, service_id: int) -> tuple[Drill, DrillService]:
    drill = Drill.objects.select_for_update().get(pk=drill_id)
    if drill.status == Drill.Status.FINISHED:
        raise DrillConflict(f"drill {drill.pk} is finished")
    target = DrillService.objects.filter(drill=drill, service_id=service_id).first()
    if target is None:
        raise DrillError("service: this service is not part of the drill", field="service")
    return drill, target


def _check_time(at: datetime, now: datetime) -> None:
    if at.tzinfo is None:
        raise DrillError("at: give a time zone offset (e.g. Z)", field="at")
    if at > now + CLOCK_SKEW:
        raise DrillError("at: must not be in the future", field="at")


def drill_inject(*, drill_id: int, service_id: int, at: datetime | None = None) -> DrillService:
    """Record the exact moment a fault was injected into one drilled service."""
    now = timezone.now()
    at = at or now
    _check_time(at, now)
    with transaction.atomic():
        drill, target = _locked_target(drill_id, service_id)
        if target.injected_at is not None:
            raise DrillConflict(
                f"service: a fault was already injected at {target.injected_at.isoformat()}"
            )
        target.injected_at = at
        target.save(update_fields=["injected_at"])
        if drill.status == Drill.Status.PLANNED:
            drill.status = Drill.Status.RUNNING
            drill.save(update_fields=["status"])
    _resync(target_id=target.pk)
    return target


def drill_restore(*, drill_id: int, service_id: int, at: datetime | None = None) -> DrillService:
    """Record the exact moment the drilled service was restored."""
    now = timezone.now()
    at = at or now
    _check_time(at, now)
    with transaction.atomic():
        _, target = _locked_target(drill_id, service_id)
        if target.injected_at is None:
            raise DrillConflict("service: no fault was injected into this service yet")
        if target.restored_at is not None:
            raise DrillConflict(f"service: already restored at {target.restored_at.isoformat()}")
        if at < target.injected_at:
            raise DrillError("at: restore cannot come before the injection", field="at")
        target.restored_at = at
        target.save(update_fields=["restored_at"])
    _resync(target_id=target.pk)
    return target


def drill_finish(*, drill_id: int, at: datetime | None = None) -> Drill:
    now = timezone.now()
    at = at or now
    _check_time(at, now)
    with transaction.atomic():
        drill = Drill.objects.select_for_update().get(pk=drill_id)
        if drill.status == Drill.Status.FINISHED:
            raise DrillConflict(
                f"drill {drill.pk} already finished at {drill.finished_at.isoformat()}"
            )
        drill.status = Drill.Status.FINISHED
        drill.finished_at = at
        drill.save(update_fields=["status", "finished_at"])
    for target_id in DrillService.objects.filter(
        drill=drill, injected_at__isnull=False, restored_at__isnull=True
    ).values_list("pk", flat=True):
        _resync(target_id=target_id)
    return drill


# --- attaching incidents ----------------------------------------------------------------------


def drill_attach(*, drill_id: int, incident_id: int, user, at: datetime | None = None):
    """A responder counts an incident as part of the drill (it leaves production figures)."""
    drill = Drill.objects.get(pk=drill_id)
    incident = Incident.objects.filter(pk=incident_id).select_related("service").first()
    if incident is None or incident.service.team_id != drill.team_id:
        raise DrillError("incident: no such incident in this team", field="incident")
    if not DrillService.objects.filter(drill=drill, service_id=incident.service_id).exists():
        raise DrillError(
            f"incident: its service {incident.service.slug} is not part of the drill",
            field="incident",
        )
    existing = DrillIncident.objects.filter(incident_id=incident_id).select_related("drill").first()
    if existing is not None:
        where = "this drill" if existing.drill_id == drill.pk else f"drill {existing.drill.name!r}"
        raise DrillConflict(f"incident: #{incident_id} is already attached to {where}")
    try:
        return _attach(drill=drill, incident=incident, user=user, automatic=False, at=at)
    except IntegrityError:
        raise DrillConflict(f"incident: #{incident_id} was attached meanwhile") from None


def drill_detach(*, drill_id: int, incident_id: int, user, at: datetime | None = None) -> None:
    """A responder says the incident was not caused by the drill: it counts in production
    figures again, and the attacher never re-attaches it to this drill."""
    with transaction.atomic():
        drill = Drill.objects.get(pk=drill_id)
        attachment = (
            DrillIncident.objects.select_for_update()
            .filter(drill=drill, incident_id=incident_id)
            .first()
        )
        if attachment is None:
            raise DrillConflict(f"incident: #{incident_id} is not attached to this drill")
        attachment.delete()
        incident_drills.incident_drill_detached(
            incident_id=incident_id,
            drill_id=drill.pk,
            drill_name=drill.name,
            actor=user,
            automatic=False,
            at=at,
        )


def _attach(*, drill: Drill, incident: Incident, user, automatic: bool, at=None) -> DrillIncident:
    with transaction.atomic():
        attachment = DrillIncident.objects.create(
            drill=drill,
            service_id=incident.service_id,
            incident=incident,
            attached_by=user,
            automatic=automatic,
        )
        incident_drills.incident_drill_attached(
            incident_id=incident.pk,
            drill_id=drill.pk,
            drill_name=drill.name,
            actor=user,
            automatic=automatic,
            at=at,
        )
    return attachment


def _windows(targets) -> list[Window]:
    return [
        Window(
            drill_id=t.drill_id,
            service_id=t.service_id,
            injected_at=t.injected_at,
            restored_at=t.restored_at,
            finished_at=t.drill.finished_at,
            grace_seconds=t.drill.grace_seconds,
        )
        for t in targets
    ]


def _detached_pairs(incident_ids) -> set[tuple[int, int]]:
    """(incident, drill) pairs a responder detached: never re-attached automatically."""
    rows = IncidentEvent.objects.filter(
        kind=EventKind.DRILL_DETACHED, incident_id__in=list(incident_ids)
    ).values_list("incident_id", "data")
    return {(incident_id, data.get("drill_id")) for incident_id, data in rows}


def _attach_matching(candidates: list[tuple[int, int, datetime]], windows: list[Window]) -> int:
    """Attach each (incident id, service id, detected at) that falls in a drill window."""
    if not candidates or not windows:
        return 0
    ids = {c[0] for c in candidates}
    attached = set(
        DrillIncident.objects.filter(incident_id__in=ids).values_list("incident_id", flat=True)
    )
    detached = _detached_pairs(ids - attached)
    drills = {}
    done = 0
    for incident_id, service_id, at in candidates:
        if incident_id in attached:
            continue
        window = window_for(windows, service_id=service_id, at=at)
        if window is None or (incident_id, window.drill_id) in detached:
            continue
        if window.drill_id not in drills:
            drills[window.drill_id] = Drill.objects.get(pk=window.drill_id)
        incident = Incident(pk=incident_id, service_id=service_id)
        try:
            _attach(drill=drills[window.drill_id], incident=incident, user=None, automatic=True)
        except IntegrityError:
            continue  # attached by hand (or by another run) a moment ago
        attached.add(incident_id)
        done += 1
    return done


def _resync(*, target_id: int) -> None:
    """Right after an inject, restore or finish: attach incidents already detected inside the
    window, and detach automatic attachments the window no longer covers (a restore or
    finish reported with an earlier time closes it earlier)."""
    target = DrillService.objects.select_related("drill").get(pk=target_id)
    window = _windows([target])[0]
    if window.injected_at is None:
        return
    beyond = Q(incident__detected_at__lt=window.injected_at)
    if window.ends_at is not None:
        beyond |= Q(incident__detected_at__gt=window.ends_at)
    outside = DrillIncident.objects.filter(
        beyond, drill_id=target.drill_id, service_id=target.service_id, automatic=True
    )
    for attachment in outside.select_related("drill"):
        with transaction.atomic():
            DrillIncident.objects.filter(pk=attachment.pk).delete()
            incident_drills.incident_drill_detached(
                incident_id=attachment.incident_id,
                drill_id=attachment.drill_id,
                drill_name=attachment.drill.name,
                actor=None,
                automatic=True,
            )
    found = Incident.objects.filter(
        service_id=target.service_id, detected_at__gte=window.injected_at
    )
    if window.ends_at is not None:
        found = found.filter(detected_at__lte=window.ends_at)
    candidates = list(found.order_by("detected_at").values_list("id", "service_id", "detected_at"))
    _attach_matching(candidates, [window])


def drills_attach_pending(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Follow the incident log: attach newly triggered incidents of drilled services whose
    detection falls in a drill window. Safe to run twice or concurrently (the cursor row is
    locked; attachments are unique per incident). Returns how many were attached."""
    now = now or timezone.now()
    DrillAttachCursor.objects.get_or_create(name=CURSOR_NAME)
    with transaction.atomic():
        cursor = DrillAttachCursor.objects.select_for_update().get(name=CURSOR_NAME)
        targets = list(
            DrillService.objects.filter(injected_at__isnull=False)
            .filter(
                Q(drill__finished_at__isnull=True)
                | Q(drill__finished_at__gte=now - ACTIVE_AFTER_FINISH)
            )
            .select_related("drill")
        )
        if not targets:
            # Nothing is being drilled: skip to the end of the log (a later injection
            # looks at the incidents already there itself).
            newest = IncidentEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
            if newest > cursor.last_event_id:
                cursor.last_event_id = newest
                cursor.save(update_fields=["last_event_id", "updated_at"])
            return 0
        triggered = IncidentEvent.objects.filter(kind=EventKind.TRIGGERED)
        new_ids = list(
            triggered.filter(id__gt=cursor.last_event_id)
            .order_by("id")
            .values_list("id", flat=True)[:limit]
        )
        scan = Q(recorded_at__gte=now - LOOKBACK, id__lte=cursor.last_event_id)
        if new_ids:
            scan |= Q(id__gt=cursor.last_event_id, id__lte=new_ids[-1])
        candidates = list(
            triggered.filter(scan)
            .filter(incident__service_id__in={t.service_id for t in targets})
            .order_by("id")
            .values_list("incident_id", "incident__service_id", "at")
        )
        attached = _attach_matching(candidates, _windows(targets))
        if new_ids:
            cursor.last_event_id = new_ids[-1]
            cursor.save(update_fields=["last_event_id", "updated_at"])
    if attached:
        log.info("attached %d incidents to drills", attached)
    return attached
