"""Reads for failover drills: lists scoped to the user's teams, the review of one drill and
the per-service history of past drills. Query counts are bounded (no N+1)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Case, Count, Prefetch, Q, QuerySet, When

from incidents.models import Incident, Service
from metrics.drill_math import IncidentTimes, ServiceOutcome, drill_passed, service_outcome
from metrics.models import Drill, DrillIncident, DrillService
from oncall.selectors import teams_for

# How far back a service's drill history (the trend chart) reaches.
HISTORY = timedelta(days=730)


def drills_for(user) -> QuerySet[Drill]:
    return Drill.objects.filter(team__in=teams_for(user)).select_related("team")


def drill_list(user, *, team_id: int | None = None) -> QuerySet[Drill]:
    drills = drills_for(user)
    if team_id is not None:
        drills = drills.filter(team_id=team_id)
    return drills.annotate(incident_count=Count("attachments", distinct=True)).prefetch_related(
        Prefetch("targets", queryset=DrillService.objects.select_related("service").order_by("pk"))
    )


def drill_for(user, drill_id: int) -> Drill:
    """The drill if the user may see it; raises Drill.DoesNotExist otherwise."""
    return drills_for(user).get(pk=drill_id)


_STATUS_ORDER = Case(
    When(status=Drill.Status.RUNNING, then=0),
    When(status=Drill.Status.PLANNED, then=1),
    default=2,
)


def drills_dashboard(user, *, now: datetime, limit: int = 10) -> list[Drill]:
    """Drills not yet run or running, and those finished in the last two weeks."""
    recent = now - timedelta(days=14)
    return list(
        drills_for(user)
        .filter(~Q(status=Drill.Status.FINISHED) | Q(finished_at__gte=recent))
        .annotate(incident_count=Count("attachments"))
        .order_by(_STATUS_ORDER, "-created_at")[:limit]
    )


@dataclass
class ServiceReview:
    target: DrillService
    outcome: ServiceOutcome
    incidents: list[Incident] = field(default_factory=list)
    attachments: list[DrillIncident] = field(default_factory=list)
    history: list[TrendPoint] = field(default_factory=list)

    @property
    def service(self) -> Service:
        return self.target.service


@dataclass(frozen=True)
class TrendPoint:
    drill_id: int
    drill_name: str
    injected_at: datetime
    mttd_seconds: float | None
    mttr_seconds: float | None
    passed: bool | None


@dataclass
class DrillReview:
    drill: Drill
    services: list[ServiceReview]

    @property
    def passed(self) -> bool | None:
        return drill_passed([s.outcome for s in self.services])

    @property
    def missed(self) -> list[ServiceReview]:
        return [s for s in self.services if s.outcome.missed]


def _times(incident: Incident) -> IncidentTimes:
    return IncidentTimes(
        incident_id=incident.pk,
        detected_at=incident.detected_at,
        acknowledged_at=incident.acknowledged_at,
        resolved_at=incident.resolved_at,
    )


def _outcomes(targets: list[DrillService]) -> dict[int, tuple[ServiceOutcome, list]]:
    """Outcome and attachments per target, in one query for all the targets' incidents."""
    by_pair: dict[tuple[int, int], list[DrillIncident]] = defaultdict(list)
    attachments = (
        DrillIncident.objects.filter(drill_id__in={t.drill_id for t in targets})
        .select_related("incident", "attached_by")
        .order_by("incident__detected_at")
    )
    for attachment in attachments:
        by_pair[(attachment.drill_id, attachment.service_id)].append(attachment)
    result = {}
    for target in targets:
        mine = by_pair.get((target.drill_id, target.service_id), [])
        outcome = service_outcome(
            injected_at=target.injected_at,
            restored_at=target.restored_at,
            incidents=[_times(a.incident) for a in mine],
            max_mttd_seconds=target.max_mttd_seconds,
            max_mttr_seconds=target.max_mttr_seconds,
            finished=target.drill.status == Drill.Status.FINISHED,
        )
        result[target.pk] = (outcome, mine)
    return result


def drill_outcomes(drill_ids) -> dict[int, list[tuple[DrillService, ServiceOutcome]]]:
    """For several drills at once (weekly reports): each drilled service and its outcome."""
    targets = list(
        DrillService.objects.filter(drill_id__in=list(drill_ids))
        .select_related("drill", "service")
        .order_by("drill_id", "service__name")
    )
    outcomes = _outcomes(targets)
    result: dict[int, list] = defaultdict(list)
    for target in targets:
        result[target.drill_id].append((target, outcomes[target.pk][0]))
    return dict(result)


def service_drill_history(service_ids, *, until: datetime) -> dict[int, list[TrendPoint]]:
    """Each service's drills (injected up to `until`), oldest first, for the trend chart."""
    targets = list(
        DrillService.objects.filter(
            service_id__in=list(service_ids),
            injected_at__isnull=False,
            injected_at__lte=until,
            injected_at__gte=until - HISTORY,
        )
        .select_related("drill")
        .order_by("injected_at")
    )
    outcomes = _outcomes(targets)
    history: dict[int, list[TrendPoint]] = defaultdict(list)
    for target in targets:
        outcome = outcomes[target.pk][0]
        history[target.service_id].append(
            TrendPoint(
                drill_id=target.drill_id,
                drill_name=target.drill.name,
                injected_at=target.injected_at,
                mttd_seconds=outcome.mttd_seconds,
                mttr_seconds=outcome.mttr_seconds,
                passed=outcome.passed,
            )
        )
    return dict(history)


def drill_review(drill: Drill) -> DrillReview:
    targets = list(
        DrillService.objects.filter(drill=drill)
        .select_related("drill", "service")
        .order_by("service__name")
    )
    outcomes = _outcomes(targets)
    until = max((t.injected_at for t in targets if t.injected_at), default=drill.created_at)
    history = service_drill_history([t.service_id for t in targets], until=until)
    services = []
    for target in targets:
        outcome, attachments = outcomes[target.pk]
        services.append(
            ServiceReview(
                target=target,
                outcome=outcome,
                incidents=[a.incident for a in attachments],
                attachments=attachments,
                history=history.get(target.service_id, []),
            )
        )
    return DrillReview(drill=drill, services=services)


def attach_candidates(drill: Drill, *, limit: int = 50) -> list[Incident]:
    """Incidents a responder might attach by hand: of the drilled services, detected since an
    hour before the first injection (or the drill's creation), not in any drill."""
    targets = list(drill.targets.all())
    since = min((t.injected_at for t in targets if t.injected_at), default=drill.created_at)
    return list(
        Incident.objects.filter(
            service_id__in=[t.service_id for t in targets],
            detected_at__gte=since - timedelta(hours=1),
            drill_attachment__isnull=True,
        )
        .select_related("service")
        .order_by("-detected_at")[:limit]
    )
