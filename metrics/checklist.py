"""The getting-started checklist a manager of a new team sees on the dashboard: service ->
integration -> schedule -> escalation policy -> your contact method -> send a test page.
Each step is read from the database (nothing is ticked by hand), so a step done through the
API, the admin or another page ticks itself off too. Computed for all the user's managed
teams in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from incidents.models import (
    ContactMethod,
    EscalationPolicy,
    Integration,
    Notification,
    NotificationReason,
    NotificationStatus,
    Service,
)
from oncall.models import Membership, Role, Schedule, Team

# Where each step is done: URL names, in one place. The services, integrations and schedule
# editor pages are being built; until then the first three point at what exists.
# LEAD: point "service", "integration" and "schedule" at the new pages here.
STEP_LINKS = {
    "service": "service-new",
    # A service's integrations are on its own page: the team's services list links to each.
    "integration": "service-list",
    "schedule": "schedule-new",
    "policy": "escalation-policy-new",
    "contact_method": "contact-methods",
    "test_page": "notification-rules",  # the "Send me a test page" button is there
}
# (key, what the step asks for), in the order a team sets itself up.
STEPS = (
    ("service", "Create a service"),
    ("integration", "Connect an alert source (an integration) to it"),
    ("schedule", "Make an on-call schedule"),
    ("policy", "Make an escalation policy"),
    ("contact_method", "Add and verify your contact method"),
    ("test_page", "Send yourself a test page"),
)
# Links that take the team, so the page opens on it.
TEAM_QUERY = {"service", "integration", "schedule", "policy"}


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    done: bool
    url: str


@dataclass(frozen=True)
class Checklist:
    team: Team
    steps: tuple[Step, ...]

    @property
    def done_count(self) -> int:
        return sum(step.done for step in self.steps)

    @property
    def complete(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def next_step(self) -> Step | None:
        return next((step for step in self.steps if not step.done), None)


def _teams_with_progress(user) -> QuerySet[Team]:
    team = OuterRef("pk")
    managed = Membership.objects.filter(user=user, role=Role.MANAGER).values("team_id")
    return (
        Team.objects.filter(pk__in=managed)
        .annotate(
            has_service=Exists(Service.objects.filter(team=team)),
            has_integration=Exists(Integration.objects.filter(service__team=team)),
            has_schedule=Exists(Schedule.objects.filter(team=team)),
            has_policy=Exists(EscalationPolicy.objects.filter(team=team)),
            has_contact_method=Exists(
                ContactMethod.objects.filter(user=user, enabled=True, verified_at__isnull=False)
            ),
            has_test_page=Exists(
                Notification.objects.filter(
                    user=user,
                    reason=NotificationReason.TEST_PAGE,
                    status=NotificationStatus.SENT,
                )
            ),
        )
        .order_by("name", "pk")
    )


def _url(key: str, team: Team) -> str:
    url = reverse(STEP_LINKS[key])
    return f"{url}?team={team.slug}" if key in TEAM_QUERY else url


def checklists_for(user, *, dismissed: frozenset[int] | set[int] = frozenset()) -> list[Checklist]:
    """The checklists of the teams `user` manages (by membership: staff see none of their
    own) that still have a step to do and were not dismissed."""
    if not user.is_authenticated:
        return []
    found = []
    for team in _teams_with_progress(user):
        if team.pk in dismissed:
            continue
        steps = tuple(
            Step(key, label, bool(getattr(team, f"has_{key}")), _url(key, team))
            for key, label in STEPS
        )
        checklist = Checklist(team, steps)
        if not checklist.complete:
            found.append(checklist)
    return found
