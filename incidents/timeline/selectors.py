"""Reads for the incidents app, always scoped to the teams the user may see."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When

from incidents.alerts import Severity
from incidents.models import OPEN_STATUSES, Incident, IncidentEvent, IncidentStatus, Service
from incidents.timeline import projection
from oncall.permissions import RESPONDING_ROLES
from oncall.selectors import teams_for

_SEVERITY_RANK = Case(
    *(When(severity=s, then=Value(rank)) for rank, s in enumerate(Severity)),
    default=Value(len(Severity)),
    output_field=IntegerField(),
)
# What lists may be ordered by; the first is the default.
ORDERINGS = {
    "-detected_at": ("-detected_at", "-pk"),
    "detected_at": ("detected_at", "pk"),
    "severity": ("severity_rank", "-detected_at", "-pk"),
    "-updated_at": ("-updated_at", "-pk"),
    "status": ("status", "-detected_at", "-pk"),
}


def services_for(user) -> QuerySet[Service]:
    return Service.objects.filter(team__in=teams_for(user)).select_related("team")


def services_to_respond(user) -> QuerySet[Service]:
    """Services whose incidents the user may act on (and open incidents for)."""
    services = services_for(user)
    if user.is_staff:
        return services
    return services.filter(
        team__memberships__user=user,
        team__memberships__role__in=RESPONDING_ROLES,
    ).distinct()


def incidents_for(user) -> QuerySet[Incident]:
    return Incident.objects.filter(service__team__in=teams_for(user)).select_related(
        "service", "service__team", "assignee"
    )


# The dashboard and its feed list at most this many open incidents, newest first: in a storm
# of thousands the page stays fast and the full list is one link away.
OPEN_LIST_LIMIT = 50


def open_incidents(user) -> QuerySet[Incident]:
    return incidents_for(user).filter(status__in=OPEN_STATUSES).order_by("-detected_at")


def recently_resolved(user, *, limit: int = 20) -> list[Incident]:
    return list(
        incidents_for(user).filter(status=IncidentStatus.RESOLVED).order_by("-resolved_at")[:limit]
    )


def incident_list(
    user,
    *,
    status: str = "",
    service: str = "",
    severity: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    ordering: str = "",
) -> QuerySet[Incident]:
    """Incidents matching the filters (empty means any); `since`/`until` bound detection,
    `since` inclusive and `until` exclusive; `ordering` is a key of ORDERINGS."""
    incidents = _filtered(incidents_for(user), service=service, severity=severity)
    incidents = _detected_between(incidents, since=since, until=until)
    if status == "open":
        incidents = incidents.filter(status__in=OPEN_STATUSES)
    elif status:
        incidents = incidents.filter(status=status)
    order = ORDERINGS.get(ordering) or next(iter(ORDERINGS.values()))
    return incidents.annotate(severity_rank=_SEVERITY_RANK).order_by(*order)


def status_counts(
    user,
    *,
    service: str = "",
    severity: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, int]:
    """How many incidents of each status match the other filters, in one query."""
    incidents = _filtered(
        Incident.objects.filter(service__team__in=teams_for(user)),
        service=service,
        severity=severity,
    )
    incidents = _detected_between(incidents, since=since, until=until)
    counts = incidents.aggregate(
        **{s.value: Count("pk", filter=Q(status=s)) for s in IncidentStatus},
        total=Count("pk"),
    )
    return counts


def _filtered(incidents: QuerySet[Incident], *, service: str, severity: str):
    if service:
        incidents = incidents.filter(service__slug=service)
    if severity:
        incidents = incidents.filter(severity=severity)
    return incidents


def _detected_between(incidents: QuerySet[Incident], *, since, until):
    if since is not None:
        incidents = incidents.filter(detected_at__gte=since)
    if until is not None:
        incidents = incidents.filter(detected_at__lt=until)
    return incidents


def incident_detail(user, incident_id: int) -> Incident:
    """The incident with its timeline and alerts; raises Incident.DoesNotExist if not visible."""
    return (
        incidents_for(user)
        .prefetch_related(
            Prefetch(
                "events", queryset=IncidentEvent.objects.select_related("actor").order_by("seq")
            ),
            "alerts",
        )
        .get(pk=incident_id)
    )


def incident_visible(user, incident_id: int) -> Incident:
    """The incident row alone; raises Incident.DoesNotExist if the user may not see it."""
    return incidents_for(user).get(pk=incident_id)


def incident_events(incident: Incident, *, after_seq: int = 0) -> QuerySet[IncidentEvent]:
    """The incident's timeline in order, optionally only what came after `after_seq`."""
    return (
        IncidentEvent.objects.filter(incident=incident, seq__gt=after_seq)
        .select_related("actor")
        .order_by("seq")
    )


def assignable_members(incident: Incident) -> QuerySet:
    """Who the incident may be assigned to: responders and managers of the service's team."""
    return (
        get_user_model()
        .objects.filter(
            memberships__team_id=incident.service.team_id,
            memberships__role__in=RESPONDING_ROLES,
        )
        .order_by("username")
    )


def incident_replayed(incident: Incident) -> projection.IncidentState:
    """What the incident row should be, rebuilt from its events."""
    return projection.replay(incident.events.order_by("seq"))


def incident_state_at(incident: Incident, at: datetime) -> projection.IncidentState | None:
    """The incident as it stood at `at`, or None if nothing had happened to it yet.

    The cut is on the event's `at` (when it happened, e.g. when the delivery was received
    or the responder clicked), not `recorded_at` (when the row was written): a backdated
    action counts from when it happened. Events are folded in `seq` order, the order they
    were applied, which is the order `at` runs in unless an action was backdated.
    """
    events = IncidentEvent.objects.filter(incident=incident, at__lte=at).order_by("seq")
    state = projection.replay(events)
    return state if state.last_seq else None
