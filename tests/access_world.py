"""One populated world for the access matrix and the API fuzzing: team "alpha7" with a
manager, a responder and a viewer, and one of every object the URLs take; an outsider who
manages team "bravo"; a staff user. Built through the project's services, as users would.

Every name in team alpha7 carries the marker ALPHA7, so a page shown to the outsider can be
searched for a leak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from core import services as core_services
from core.models import ApiToken
from incidents import services as incident_services
from incidents.models import (
    AlertDelivery,
    ContactMethod,
    EscalationPolicy,
    EscalationStep,
    EscalationTarget,
    Incident,
    Integration,
    MaintenanceWindow,
    Notification,
    NotificationReason,
    RoutingRule,
    Service,
)
from incidents.services import config, maintenance, notifications
from metrics import drills, reports, weeks
from metrics.models import Drill, WeeklyReport
from oncall import services as oncall_services
from oncall.models import Layer, Membership, Override, Role, Schedule, Team

MARKER = "alpha7"
PASSWORD = "correct horse 42"
ROLES = ("anonymous", "viewer", "responder", "manager", "outsider", "staff")


@dataclass
class World:
    now: datetime
    team: Team
    other_team: Team
    users: dict = field(default_factory=dict)
    service: Service | None = None
    other_service: Service | None = None
    integration: Integration | None = None
    integration_token: str = ""
    routing_rule: RoutingRule | None = None
    incident: Incident | None = None
    failed_delivery: AlertDelivery | None = None
    policy: EscalationPolicy | None = None
    window: MaintenanceWindow | None = None
    schedule: Schedule | None = None
    layer: Layer | None = None
    override: Override | None = None
    drill: Drill | None = None
    report: WeeklyReport | None = None
    contact_method: ContactMethod | None = None
    notification: Notification | None = None
    api_token: ApiToken | None = None
    api_token_plain: str = ""


def _user(username: str, **extra):
    return get_user_model().objects.create_user(
        username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


def _alert_body(now: datetime) -> str:
    started = (now - timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "version": "4",
            "groupKey": '{}:{alertname="Alpha7CheckoutDown"}',
            "status": "firing",
            "receiver": "pagerline",
            "groupLabels": {"alertname": "Alpha7CheckoutDown"},
            "commonLabels": {},
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "Alpha7CheckoutDown", "severity": "critical"},
                    "annotations": {"summary": "ALPHA7 checkout is down"},
                    "startsAt": started,
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": "alpha7-fp",
                }
            ],
        }
    )


def build_world(now: datetime | None = None) -> World:
    now = (now or timezone.now()).replace(microsecond=0)
    team = Team.objects.create(slug=MARKER, name="ALPHA7 Payments", time_zone="Europe/Berlin")
    other_team = Team.objects.create(slug="bravo", name="Bravo", time_zone="UTC")
    world = World(now=now, team=team, other_team=other_team)
    for role in (Role.MANAGER, Role.RESPONDER, Role.VIEWER):
        user = _user(role.value)
        Membership.objects.create(team=team, user=user, role=role)
        world.users[role.value] = user
    outsider = _user("outsider")
    Membership.objects.create(team=other_team, user=outsider, role=Role.MANAGER)
    world.users["outsider"] = outsider
    world.users["staff"] = _user("staff", is_staff=True)
    manager, responder = world.users["manager"], world.users["responder"]

    # Configuration: services, an escalation policy, an integration with a routing rule.
    world.service = config.service_create(
        actor=manager, team=team, slug=f"{MARKER}-checkout", name="ALPHA7 Checkout"
    )
    extra = config.service_create(
        actor=manager, team=team, slug=f"{MARKER}-ledger", name="ALPHA7 Ledger"
    )
    world.other_service = config.service_create(
        actor=outsider, team=other_team, slug="bravo-web", name="Bravo web"
    )
    world.policy = EscalationPolicy.objects.create(team=team, name="ALPHA7 primary")
    step = EscalationStep.objects.create(policy=world.policy, position=0, delay_seconds=0)
    EscalationTarget.objects.create(step=step, user=responder)
    config.service_update(
        actor=manager, service=world.service, escalation_policy_id=world.policy.pk
    )
    world.integration, world.integration_token = config.integration_add(
        actor=manager, service=world.service, source="alertmanager", name="ALPHA7 alerts"
    )
    world.routing_rule = config.routing_rule_create(
        actor=manager,
        integration=world.integration,
        matchers=[{"label": "team", "op": "=", "value": "ledger"}],
        service=extra,
    )

    # Intake: one alert that opened an incident, one body the parser refused.
    incident_services.delivery_accept(
        integration=world.integration, body=_alert_body(now), received_at=now - timedelta(hours=1)
    )
    incident_services.delivery_accept(
        integration=world.integration,
        body='{"alerts": "ALPHA7 not a list"}',
        received_at=now - timedelta(minutes=50),
    )
    token, batch = incident_services.deliveries_claim(limit=10, now=now)
    for delivery in batch:
        incident_services.delivery_process(delivery=delivery, token=token)
    world.failed_delivery = AlertDelivery.objects.get(status="failed")
    world.incident = Incident.objects.get(service=world.service)
    incident_services.incident_add_note(
        incident_id=world.incident.pk, user=responder, text="ALPHA7 looking", at=now
    )

    # Paging: a contact method, a notification, a planned maintenance window.
    world.contact_method = ContactMethod.objects.create(
        user=responder, kind="email", address="responder@alpha7.example"
    )
    (world.notification,) = notifications.users_notify(
        users=[responder],
        reason=NotificationReason.ESCALATION,
        subject="ALPHA7 checkout is down",
        text="ALPHA7 checkout is down",
        at=now,
        incident=world.incident,
    )[responder.pk]
    world.window = maintenance.maintenance_create(
        team=team,
        services=[world.service],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=1, hours=2),
        reason="ALPHA7 database upgrade",
        created_by=manager,
        now=now,
    )

    # On call: a schedule with one layer and an override for the responder.
    local = now.astimezone(timezone.get_fixed_timezone(0)).replace(tzinfo=None)
    world.schedule = oncall_services.schedule_create(
        team=team,
        name="ALPHA7 primary",
        time_zone="Europe/Berlin",
        layers=[
            oncall_services.LayerSpec(
                name="ALPHA7 layer",
                participants=(manager, responder),
                unit="days",
                every=1,
                handoff_start=local - timedelta(days=7),
            )
        ],
    )
    world.layer = world.schedule.layers.get()
    world.override = oncall_services.override_create(
        schedule=world.schedule,
        user=responder,
        start=now + timedelta(hours=1),
        end=now + timedelta(hours=3),
        created_by=manager,
    )

    # Metrics: a running drill with an injected service, last week's report.
    world.drill = drills.drill_create(
        team=team,
        name="ALPHA7 failover",
        targets=[drills.TargetSpec(world.service, 600, 3600)],
        user=manager,
    )
    drills.drill_inject(
        drill_id=world.drill.pk, service_id=world.service.pk, at=now - timedelta(minutes=5)
    )
    last_week = weeks.shift_week(weeks.iso_week_of(now, team.time_zone), -1)
    world.report = reports.report_build(team=team, week=last_week, now=now).report

    world.api_token, world.api_token_plain = core_services.api_token_create(
        user=manager, name="ALPHA7 ci"
    )
    world.incident.refresh_from_db()
    return world


# URL kwarg name -> the world's object it names (used by the access matrix and the fuzzing).
KWARGS = {
    "incident_id": lambda w: w.incident.pk,
    "delivery_id": lambda w: w.failed_delivery.pk,
    "window_id": lambda w: w.window.pk,
    "integration_id": lambda w: w.integration.pk,
    "rule_id": lambda w: w.routing_rule.pk,
    "slug": lambda w: w.service.slug,
    "token_id": lambda w: w.api_token.pk,
    "drill_id": lambda w: w.drill.pk,
    "team": lambda w: w.team.slug,
    "week": lambda w: w.report.week,
    "schedule_id": lambda w: w.schedule.pk,
    "override_id": lambda w: w.override.pk,
}
