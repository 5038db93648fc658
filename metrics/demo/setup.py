"""The demo's configuration: people, teams, services, integrations, schedules, escalation
policies, contact methods and notification rules, through the apps' services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone

from incidents.catalog import changes
from incidents.escalation import policies
from incidents.models import ContactMethod, Notification, NotificationReason, Service, Urgency
from incidents.notify import contacts, rules_changes
from oncall import services as oncall
from oncall.models import Membership, Role, Schedule, Team

FIRST_TEAM = "payments"
WEBHOOK_SERVICE = "checkout"

# slug: (name, zone, services, people in rotation order)
TEAMS = {
    "payments": (
        "Payments",
        "Europe/Berlin",
        ["checkout", "payments-api", "fraud-scoring"],
        ["alice", "bruno", "chiara", "dmitri"],
    ),
    "platform": (
        "Platform",
        "America/New_York",
        ["api-gateway", "postgres-primary"],
        ["erin", "farid", "grace"],
    ),
}
DESCRIPTIONS = {
    "checkout": "Basket to paid order: the page customers see last.",
    "payments-api": "Card and wallet payments for every shop.",
    "fraud-scoring": "Scores each payment before it is captured.",
    "api-gateway": "Public HTTPS entry point; routes to every backend.",
    "postgres-primary": "The primary PostgreSQL cluster and its replicas.",
}
WEEKDAYS = (0, 1, 2, 3, 4)


@dataclass
class World:
    manager: object
    teams: list[Team] = field(default_factory=list)
    people: dict[str, list] = field(default_factory=dict)  # team slug -> users
    services: dict[str, Service] = field(default_factory=dict)  # slug -> service
    integrations: dict[str, object] = field(default_factory=dict)  # service slug -> integration
    schedules: dict[str, Schedule] = field(default_factory=dict)  # team slug -> schedule


def world_create(*, manager, now: datetime) -> World:
    world = World(manager=manager)
    for slug, (name, zone, service_slugs, usernames) in TEAMS.items():
        team = Team.objects.create(slug=slug, name=name, time_zone=zone)
        world.teams.append(team)
        Membership.objects.create(team=team, user=manager, role=Role.MANAGER)
        people = [_person(team, username) for username in usernames]
        world.people[slug] = people
        for service_slug in service_slugs:
            service = changes.service_create(
                actor=manager,
                team=team,
                slug=service_slug,
                name=service_slug.replace("-", " ").title(),
                description=DESCRIPTIONS[service_slug],
            )
            world.services[service_slug] = service
            world.integrations[service_slug], _ = changes.integration_create(
                service=service, source="alertmanager", name="Alertmanager"
            )
        world.schedules[slug] = _schedule(team, people, now=now)
    for user in [manager, *(u for people in world.people.values() for u in people)]:
        _reachable(user)
    return world


def _person(team: Team, username: str):
    user = get_user_model().objects.create_user(
        username, email=f"{username}@example.com", first_name=username.title()
    )
    user.set_unusable_password()  # demo colleagues: only the demo login signs in
    user.save(update_fields=["password"])
    Membership.objects.create(team=team, user=user, role=Role.RESPONDER)
    oncall.profile_update(user=user, time_zone=team.time_zone)
    return user


def _schedule(team: Team, people: list, *, now: datetime) -> Schedule:
    """Three layers: business-hours days on top, a weekly primary below it, and a weekend
    backstop of two people; plus an override where someone covers a colleague tomorrow."""
    zone = ZoneInfo(team.time_zone)
    local = now.astimezone(zone)
    # Rotations started on a Monday eight weeks ago, at 09:00 local (naive local times).
    monday = (local - timedelta(days=local.weekday(), weeks=8)).replace(tzinfo=None)
    start = datetime.combine(monday.date(), time(9, 0))
    layers = [
        oncall.LayerSpec(
            name="Business hours",
            participants=tuple(people[:2]),
            unit="days",
            every=1,
            handoff_start=start,
            restrictions=(oncall.RestrictionSpec(days=WEEKDAYS, start=time(9), end=time(17)),),
        ),
        oncall.LayerSpec(
            name="Weekly primary",
            participants=tuple(people),
            unit="weeks",
            every=1,
            handoff_start=start,
        ),
        oncall.LayerSpec(
            name="Weekend backstop",
            participants=tuple(reversed(people[-2:])),
            unit="days",
            every=1,
            handoff_start=start,
            restrictions=(oncall.RestrictionSpec(days=(5, 6), start=time(8), end=time(20)),),
        ),
    ]
    schedule = oncall.schedule_create(
        team=team, name=f"{team.name} primary", time_zone=team.time_zone, layers=layers
    )
    tomorrow = (local + timedelta(days=1)).date()
    oncall.override_create(
        schedule=schedule,
        user=people[-1],
        start=datetime.combine(tomorrow, time(18), tzinfo=zone),
        end=datetime.combine(tomorrow, time(23), tzinfo=zone),
        created_by=people[0],
    )
    return schedule


def _reachable(user) -> ContactMethod:
    """An email contact method at example.com, verified, and rules: high urgency at once
    and again after 5 minutes, low urgency after 15 minutes."""
    method = contacts.contact_method_create(
        user=user, kind="email", address=user.email or f"{user.get_username()}@example.com"
    )
    _verified(method)
    for urgency, delay in ((Urgency.HIGH, 0), (Urgency.HIGH, 300), (Urgency.LOW, 900)):
        rules_changes.notification_rule_create(
            user=user, urgency=urgency, delay_seconds=delay, contact_method_id=method.pk
        )
    return method


def _verified(method: ContactMethod) -> None:
    """As if its owner had entered the code: nobody reads example.com mail, so the queued
    code message is dropped (no console noise) and the method marked verified."""
    Notification.objects.filter(contact_method=method, reason=NotificationReason.VERIFY).delete()
    method.verified_at = timezone.now()
    method.save(update_fields=["verified_at"])


def policies_assign(world: World, *, actor) -> None:
    """Each team's policy: its schedule at once, then the two most senior people after 10
    minutes, the demo manager after 20; repeated once. Assigned to every service of the
    team (after the history, so past incidents do not page anyone)."""
    for team in world.teams:
        people = world.people[team.slug]
        policy = policies.policy_create(
            actor=actor,
            team=team,
            name=f"{team.name} default",
            repeat=1,
            steps=[
                {"delay_seconds": 0, "targets": [{"schedule": world.schedules[team.slug].pk}]},
                {
                    "delay_seconds": 600,
                    "targets": [{"user": u.get_username()} for u in people[:2]],
                },
                {"delay_seconds": 1200, "targets": [{"user": actor.get_username()}]},
            ],
        )
        for service in Service.objects.filter(team=team):
            changes.service_update(actor=actor, service=service, escalation_policy_id=policy.pk)
