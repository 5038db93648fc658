"""Reads for escalation policies, scoped to the teams the user may see, and the warnings
of escalations that reached nobody."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, JSONField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from incidents.escalation.policy_input import delay_label
from incidents.models import (
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    EventKind,
    Incident,
    IncidentEvent,
    IncidentStatus,
    Service,
)
from oncall.models import Membership, Schedule, Team
from oncall.permissions import RESPONDING_ROLES
from oncall.selectors import teams_for


def policies_for(user) -> QuerySet[EscalationPolicy]:
    """Policies of the user's teams, with everything a page or the API shows prefetched
    (a constant number of queries however many policies and steps)."""
    targets = EscalationTarget.objects.select_related("user").order_by("id")
    steps = EscalationStep.objects.order_by("position", "id").prefetch_related(
        Prefetch("targets", queryset=targets)
    )
    return (
        EscalationPolicy.objects.filter(team__in=teams_for(user))
        .select_related("team", "fallback_user")
        .prefetch_related(
            Prefetch("steps", queryset=steps),
            Prefetch("services", queryset=Service.objects.order_by("name")),
        )
        .order_by("team__name", "name", "id")
    )


def schedule_names(policies) -> dict[int, str]:
    """{schedule id: name} for every schedule the policies' steps name (one query)."""
    ids = {
        target.schedule_id
        for policy in policies
        for step in policy.steps.all()
        for target in step.targets.all()
        if target.schedule_id is not None
    }
    if not ids:
        return {}
    return dict(Schedule.objects.filter(pk__in=ids).values_list("pk", "name"))


def label_targets(policies) -> dict[int, str]:
    """Give every prefetched step its `wait` ("after 5 min") and every target a `label`
    ("alice", or "Primary (schedule)") for pages; returns the schedule names (one query)."""
    names = schedule_names(policies)
    for policy in policies:
        for step in policy.steps.all():
            step.wait = delay_label(step.delay_seconds)
            for target in step.targets.all():
                if target.user_id is not None:
                    target.label = target.user.get_username()
                elif target.schedule_id in names:
                    target.label = f"{names[target.schedule_id]} (schedule)"
                else:
                    target.label = f"schedule {target.schedule_id} (gone)"
    return names


def pageable_members(team: Team) -> list:
    """Users a policy of the team may page (responders and managers), by username."""
    return [
        m.user
        for m in Membership.objects.filter(
            team=team, role__in=RESPONDING_ROLES, user__is_active=True
        )
        .select_related("user")
        .order_by("user__username")
    ]


def team_schedules(team: Team) -> list[Schedule]:
    return list(Schedule.objects.filter(team=team).order_by("name"))


def services_without_policy(user) -> list[Service]:
    return list(
        Service.objects.filter(team__in=teams_for(user), escalation_policy__isnull=True)
        .select_related("team")
        .order_by("team__name", "name")
    )


# (from incidents.notify.selectors)


@dataclass(frozen=True)
class EscalationWarning:
    incident: Incident
    at: datetime
    summary: str


def escalation_warnings(user, *, limit: int = 20) -> list[EscalationWarning]:
    """Triggered incidents in the user's teams whose paging may reach nobody, newest first:
    the latest step that reached nobody (else the chain running out), or a service with no
    escalation policy at all. One query."""
    latest = IncidentEvent.objects.filter(
        incident=OuterRef("pk"),
        kind__in=[EventKind.ESCALATION_WARNING, EventKind.ESCALATION_EXHAUSTED],
    ).order_by(
        # "Reached nobody" says what to fix; "ran out" only that nobody acknowledged.
        Case(When(kind=EventKind.ESCALATION_WARNING, then=Value(0)), default=Value(1)),
        "-seq",
    )
    incidents = (
        Incident.objects.filter(service__team__in=teams_for(user), status=IncidentStatus.TRIGGERED)
        .annotate(
            warning_at=Subquery(latest.values("at")[:1]),
            warning=Subquery(latest.values("data")[:1], output_field=JSONField()),
        )
        .filter(Q(warning_at__isnull=False) | Q(service__escalation_policy__isnull=True))
        .select_related("service")
        .order_by(Coalesce("warning_at", "detected_at").desc(), "-pk")[:limit]
    )
    warnings = []
    for incident in incidents:
        if incident.warning_at is None:
            summary = f"{incident.service.name} has no escalation policy: nobody is paged"
            warnings.append(EscalationWarning(incident, incident.detected_at, summary))
        else:
            summary = (incident.warning or {}).get("summary", "")
            warnings.append(EscalationWarning(incident, incident.warning_at, summary))
    return warnings
