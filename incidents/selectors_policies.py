"""Reads for escalation policies and contact methods, scoped to what the user may see: the
policies of their teams, and only their own contact methods."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from incidents.models import (
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Notification,
    Service,
)
from incidents.policy_input import delay_label
from incidents.services.policies import PAGEABLE_ROLES
from oncall.models import Membership, Schedule, Team
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
        for m in Membership.objects.filter(team=team, role__in=PAGEABLE_ROLES, user__is_active=True)
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


# --- contact methods --------------------------------------------------------------------------


def contact_methods_of(user) -> QuerySet[ContactMethod]:
    return ContactMethod.objects.filter(user=user).order_by("id")


def recent_notifications_of(user, *, limit: int = 20) -> list[Notification]:
    """The latest attempts to reach the user (pages, handoffs, tests), newest first."""
    return list(
        Notification.objects.filter(user=user)
        .select_related("contact_method", "incident")
        .order_by("-created_at", "-id")[:limit]
    )
