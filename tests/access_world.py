"""One populated world for the access matrix and the API fuzzing: team "alpha7" with a
manager, a responder and a viewer, and one of every object the URLs take; an outsider who
manages team "bravo"; a staff user. Built through the project's services, as users would.

Every name in team alpha7 carries the marker ALPHA7, so a page shown to the outsider can be
searched for a leak.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from pytest import MonkeyPatch
from rest_framework.views import APIView

from core import services as core_services
from core.models import ApiToken
from incidents.catalog import changes
from incidents.intake import drain, heartbeats, store
from incidents.maintenance import windows
from incidents.models import (
    AlertDelivery,
    ContactMethod,
    EscalationPolicy,
    Incident,
    Integration,
    MaintenanceWindow,
    NamedHeartbeat,
    Notification,
    NotificationReason,
    NotificationRule,
    RoutingRule,
    Service,
)
from incidents.notify import rules_changes, sending
from incidents.tests.factories import make_contact_method, make_policy
from incidents.timeline import actions
from incidents.timeline import api as incidents_api
from metrics import drills, reports, weeks
from metrics.models import Drill, WeeklyReport
from oncall import invitations
from oncall import services as oncall_services
from oncall.models import Invitation, Layer, Override, Role, Schedule, Team
from oncall.tests.factories import make_membership, make_team, make_user

MARKER = "alpha7"
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
    opsgenie: Integration | None = None  # the one kind of integration with named heartbeats
    heartbeat: NamedHeartbeat | None = None
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
    own_contact_method: ContactMethod | None = None  # the manager's, for owner-only URLs
    own_notification_rule: NotificationRule | None = None  # the manager's, on that method
    notification: Notification | None = None
    api_token: ApiToken | None = None  # the manager's, for the API fuzzing
    api_token_plain: str = ""
    spare_token: ApiToken | None = None  # another of the manager's, for URLs that revoke one
    invitation: Invitation | None = None  # the manager's, to team alpha7


def _user(username: str, **extra):
    return make_user(username, email=f"{username}@example.com", **extra)


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
    team = make_team(slug=MARKER, name="ALPHA7 Payments", time_zone="Europe/Berlin")
    other_team = make_team(slug="bravo", name="Bravo", time_zone="UTC")
    world = World(now=now, team=team, other_team=other_team)
    for role in (Role.MANAGER, Role.RESPONDER, Role.VIEWER):
        user = _user(role.value)
        make_membership(team, user, role=role)
        world.users[role.value] = user
    outsider = _user("outsider")
    make_membership(other_team, outsider, role=Role.MANAGER)
    world.users["outsider"] = outsider
    world.users["staff"] = _user("staff", is_staff=True)
    manager, responder = world.users["manager"], world.users["responder"]

    # Configuration: services, an escalation policy, an integration with a routing rule.
    world.service = changes.service_create(
        actor=manager, team=team, slug=f"{MARKER}-checkout", name="ALPHA7 Checkout"
    )
    extra = changes.service_create(
        actor=manager, team=team, slug=f"{MARKER}-ledger", name="ALPHA7 Ledger"
    )
    world.other_service = changes.service_create(
        actor=outsider, team=other_team, slug="bravo-web", name="Bravo web"
    )
    world.policy = make_policy(team, (0, [responder]), name="ALPHA7 primary")
    changes.service_update(
        actor=manager, service=world.service, escalation_policy_id=world.policy.pk
    )
    world.integration, world.integration_token = changes.integration_add(
        actor=manager, service=world.service, source="alertmanager", name="ALPHA7 alerts"
    )
    world.routing_rule = changes.routing_rule_create(
        actor=manager,
        integration=world.integration,
        matchers=[{"label": "team", "op": "=", "value": "ledger"}],
        service=extra,
    )
    world.opsgenie, _ = changes.integration_add(
        actor=manager, service=world.service, source="opsgenie", name="ALPHA7 senders"
    )
    world.heartbeat = heartbeats.named_heartbeat_create(
        actor=manager, integration=world.opsgenie, name="alpha7-backup", interval_seconds=3600
    )

    # Intake: one alert that opened an incident, one body the parser refused.
    store.delivery_accept(
        integration=world.integration, body=_alert_body(now), received_at=now - timedelta(hours=1)
    )
    store.delivery_accept(
        integration=world.integration,
        body='{"alerts": "ALPHA7 not a list"}',
        received_at=now - timedelta(minutes=50),
    )
    token, batch = drain.deliveries_claim(limit=10, now=now)
    for delivery in batch:
        drain.delivery_process(delivery=delivery, token=token)
    world.failed_delivery = AlertDelivery.objects.get(status="failed")
    world.incident = Incident.objects.get(service=world.service)
    actions.incident_add_note(
        incident_id=world.incident.pk, user=responder, text="ALPHA7 looking", at=now
    )

    # Paging: a contact method, a notification, a planned maintenance window.
    world.contact_method = make_contact_method(responder, address="responder@alpha7.example")
    world.own_contact_method = make_contact_method(manager, address="manager@alpha7.example")
    world.own_notification_rule = rules_changes.notification_rule_create(
        user=manager,
        urgency="high",
        delay_seconds=0,
        contact_method_id=world.own_contact_method.pk,
    )
    (world.notification,) = sending.users_notify(
        users=[responder],
        reason=NotificationReason.ESCALATION,
        subject="ALPHA7 checkout is down",
        text="ALPHA7 checkout is down",
        at=now,
        incident=world.incident,
    )[responder.pk]
    world.window = windows.maintenance_create(
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
    world.spare_token, _ = core_services.api_token_create(user=manager, name="ALPHA7 spare")
    world.invitation = invitations.invitation_create(
        actor=manager, email="invited-alpha7@example.com", team=team, now=now
    ).invitation
    world.incident.refresh_from_db()
    return world


@contextmanager
def module_world(django_db_blocker) -> Iterator[World]:
    """The world, built once for a test module inside a transaction rolled back at the end
    (tests using `db` then run in savepoints inside it), with API throttling off: throttle
    counters live in the shared cache keyed by user ids that other tests reuse, and hundreds
    of requests here must neither be cut off by them nor leave them tripped."""
    with MonkeyPatch.context() as patch, django_db_blocker.unblock():
        patch.setattr(APIView, "throttle_classes", ())
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# URL kwarg name -> the world's object it names (used by the access matrix and the fuzzing).
KWARGS = {
    "incident_id": lambda w: w.incident.pk,
    "delivery_id": lambda w: w.failed_delivery.pk,
    "window_id": lambda w: w.window.pk,
    "integration_id": lambda w: w.integration.pk,
    "rule_id": lambda w: w.routing_rule.pk,
    "heartbeat_id": lambda w: w.heartbeat.pk,
    "slug": lambda w: w.service.slug,
    "token_id": lambda w: w.spare_token.pk,
    "drill_id": lambda w: w.drill.pk,
    "team": lambda w: w.team.slug,
    "week": lambda w: w.report.week,
    "schedule_id": lambda w: w.schedule.pk,
    "override_id": lambda w: w.override.pk,
    "policy_id": lambda w: w.policy.pk,
    "method_id": lambda w: w.own_contact_method.pk,
    "notification_rule_id": lambda w: w.own_notification_rule.pk,
    "username": lambda w: w.users["responder"].username,
    "invitation_id": lambda w: w.invitation.pk,
}
# Path parameters with more than one value worth trying.
CHOICES = {"action": sorted(incidents_api.ACTIONS)}


def path_variants(world: World, names) -> list[dict]:
    """Every set of path parameters to try on a URL taking `names`: the world's object for
    each name in KWARGS, each value of one in CHOICES."""
    unknown = [name for name in names if name not in KWARGS and name not in CHOICES]
    assert not unknown, f"map {unknown} to the world's objects in tests/access_world.py KWARGS"
    variants = [{}]
    for name in names:
        values = CHOICES.get(name) or [KWARGS[name](world)]
        variants = [{**variant, name: value} for variant in variants for value in values]
    return variants


def api_operations() -> list[tuple[str, str, dict]]:
    """(METHOD, path template, operation) of every operation in the OpenAPI schema, read from
    the generator (no request, no database). The schema lists no OPTIONS operations."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


# --- valid requests ----------------------------------------------------------------------------

# Query strings a GET needs to name its object.
QUERIES = {"api-metrics-services": lambda w: {"team": w.team.slug}}


def _local(w: World, hours: float, zone: str) -> str:
    return (w.now + timedelta(hours=hours)).astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def _iso(w: World, hours: float) -> str:
    return (w.now + timedelta(hours=hours)).isoformat()


def _team_document(w: World) -> dict:
    from incidents.provisioning import export

    return export.export(teams=[w.team], now=w.now)


def _layers(w: World) -> list[dict]:
    return [
        {
            "name": "ALPHA7 layer",
            "participants": ["manager", "responder"],
            "rotation": {"unit": "days", "every": 1},
            "handoff_start": _local(w, -24 * 7, "Europe/Berlin"),
        }
    ]


def _schedule_form(w: World, **fields) -> dict:
    """The schedule editor's form (oncall/schedule_form.py): one layer keyed "a"."""
    return {
        "name": "Secondary",
        "time_zone": "Europe/Berlin",
        "layer": ["a"],
        "layer-a-name": "ALPHA7 layer",
        "layer-a-participant": ["manager", "responder"],
        "layer-a-unit": "days",
        "layer-a-every": "1",
        "layer-a-handoff": _local(w, -24 * 7, "Europe/Berlin"),
        **fields,
    }


def _policy_form(w: World, name: str = "Secondary") -> dict:
    return {
        "name": name,
        "repeat": "0",
        "fallback_user": "",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-0-delay_seconds": "60",
        "steps-0-targets": ["user:responder"],
    }


def _policy_json(w: World, name: str = "Secondary") -> dict:
    return {
        "name": name,
        "repeat": 0,
        "fallback_user": "manager",
        "steps": [{"delay_seconds": 60, "targets": [{"user": "responder"}]}],
    }


# Minimal valid bodies, so a refused role is refused for who it is, not for what it sent.
# Keyed by (url key, method) or, for action URLs, (url key, action).
BODIES = {
    ("api-teams", "POST"): lambda w: {"name": "New team", "slug": "new-team"},
    ("api-team", "PATCH"): lambda w: {"time_zone": "Europe/Berlin"},
    ("api-team-members", "POST"): lambda w: {"user": "staff", "role": "viewer"},
    ("api-team-member", "PATCH"): lambda w: {"role": "viewer"},
    ("team-new", "POST"): lambda w: {"name": "New team", "slug": "new-team", "time_zone": "UTC"},
    ("team-settings", "POST"): lambda w: {"name": "ALPHA7 renamed", "time_zone": "UTC"},
    ("team-member-add", "POST"): lambda w: {"user": "staff", "role": "viewer"},
    ("team-member-role", "POST"): lambda w: {"username": "responder", "role": "viewer"},
    ("team-member-remove", "POST"): lambda w: {"username": "viewer"},
    ("service-new", "POST"): lambda w: {
        "team": w.team.slug,
        "name": "Search",
        "slug": "search",
        "high_urgency_severities": ["critical"],
    },
    ("service-settings", "POST"): lambda w: {"name": "ALPHA7 Checkout", "description": "shop"},
    ("invitation-list", "POST"): lambda w: {"email": "new-alpha7@example.com", "team": MARKER},
    ("api-invitations", "POST"): lambda w: {"email": "new-alpha7@example.com", "team": MARKER},
    ("api-tokens", "POST"): lambda w: {"name": "ci"},
    ("api-token-list", "POST"): lambda w: {"name": "ci"},
    ("incident-new", "POST"): lambda w: {
        "service": w.service.pk,
        "title": "Refunds are stuck",
        "severity": "error",
    },
    ("incident-action", "acknowledge"): lambda w: {},
    ("incident-action", "unacknowledge"): lambda w: {},
    ("incident-action", "resolve"): lambda w: {"reason": "fixed"},
    ("incident-action", "reopen"): lambda w: {"reason": "back"},
    ("incident-action", "note"): lambda w: {"text": "looking"},
    ("incident-action", "severity"): lambda w: {"severity": "warning"},
    ("incident-action", "assign"): lambda w: {"assignee": w.users["responder"].pk},
    ("incident-action", "impact-start"): lambda w: {
        "impact_started_at": _local(w, -2, settings.TIME_ZONE),
        "reason": "users said so",
    },
    ("api-incident-action", "acknowledge"): lambda w: {},
    ("api-incident-action", "unacknowledge"): lambda w: {},
    ("api-incident-action", "resolve"): lambda w: {"reason": "fixed"},
    ("api-incident-action", "reopen"): lambda w: {"reason": "back"},
    ("api-incident-action", "notes"): lambda w: {"text": "looking"},
    ("api-incident-action", "severity"): lambda w: {"severity": "warning"},
    ("api-incident-action", "assign"): lambda w: {"assignee": w.users["responder"].pk},
    ("api-incident-action", "impact-start"): lambda w: {
        "impact_started_at": _iso(w, -2),
        "reason": "users said so",
    },
    ("maintenance-list", "POST"): lambda w: {
        "team": w.team.pk,
        "services": [w.service.pk],
        "starts_at": _local(w, 48, w.team.time_zone),
        "ends_at": _local(w, 50, w.team.time_zone),
        "reason": "kernel patching",
    },
    # The team as it is: a plan with no change, and an apply that changes nothing.
    ("api-provisioning-plan", "POST"): lambda w: _team_document(w),
    ("api-provisioning-apply", "POST"): lambda w: _team_document(w),
    ("api-maintenance-windows", "POST"): lambda w: {
        "team": w.team.pk,
        "services": [w.service.pk],
        "starts_at": _iso(w, 48),
        "ends_at": _iso(w, 50),
        "reason": "kernel patching",
    },
    ("api-incidents", "POST"): lambda w: {
        "service": w.service.slug,
        "title": "Refunds are stuck",
        "severity": "error",
    },
    ("api-services", "POST"): lambda w: {
        "team": w.team.slug,
        "slug": f"{MARKER}-new",
        "name": "New",
    },
    ("api-service", "PATCH"): lambda w: {"description": "renamed"},
    ("api-integrations", "POST"): lambda w: {"service": w.service.slug, "source": "grafana"},
    ("integration-list", "POST"): lambda w: {"source": "grafana", "name": "ALPHA7 grafana"},
    ("integration-heartbeat-add", "POST"): lambda w: {"name": "nightly", "interval_minutes": "10"},
    ("integration-heartbeat-edit", "POST"): lambda w: {
        "interval_minutes": "20",
        "description": "ALPHA7 backup",
        "enabled": "on",
    },
    ("integration-routing-rule-add", "POST"): lambda w: {
        "matchers": "severity=critical",
        "service": w.service.slug,
        "position": "0",
    },
    ("api-integration", "PATCH"): lambda w: {"name": "renamed"},
    ("api-heartbeats", "POST"): lambda w: {
        "integration": w.opsgenie.pk,
        "name": "nightly",
        "interval_seconds": 600,
    },
    ("api-heartbeat", "PATCH"): lambda w: {"interval_seconds": 900},
    ("api-routing-rules", "POST"): lambda w: {
        "matchers": [{"label": "env", "op": "=", "value": "prod"}],
        "service": w.service.slug,
        "position": 1,
    },
    ("drill-new", "POST"): lambda w: {
        "team": w.team.slug,
        "name": "Another drill",
        "grace_minutes": "15",
        f"service_{w.service.pk}": "1",
    },
    ("drill-action", "inject"): lambda w: {"service": w.service.pk},
    ("drill-action", "restore"): lambda w: {"service": w.service.pk},
    ("drill-action", "finish"): lambda w: {},
    ("drill-action", "attach"): lambda w: {"incident": w.incident.pk},
    ("drill-action", "detach"): lambda w: {"incident": w.incident.pk},
    ("report-subscribe", "POST"): lambda w: {"week": w.report.week},
    ("api-drills", "POST"): lambda w: {
        "team": w.team.slug,
        "name": "Another drill",
        "services": [{"service": w.service.slug}],
    },
    ("api-drill-inject", "POST"): lambda w: {"service": w.service.slug},
    ("api-drill-restore", "POST"): lambda w: {"service": w.service.slug},
    ("api-drill-finish", "POST"): lambda w: {},
    ("api-drill-attach", "POST"): lambda w: {"incident": w.incident.pk},
    ("api-drill-detach", "POST"): lambda w: {"incident": w.incident.pk},
    ("schedule-override-add", "POST"): lambda w: {
        "user": "responder",
        "start": _local(w, 30, w.schedule.time_zone),
        "end": _local(w, 32, w.schedule.time_zone),
    },
    ("oncall-me-profile", "POST"): lambda w: {"time_zone": "Europe/Berlin"},
    ("schedule-new", "POST"): lambda w: _schedule_form(w, team=w.team.slug),
    ("schedule-new-preview", "POST"): lambda w: _schedule_form(w, team=w.team.slug),
    ("schedule-edit", "POST"): lambda w: _schedule_form(w, name="Renamed"),
    ("schedule-edit-preview", "POST"): lambda w: _schedule_form(w, name="Renamed"),
    ("api-schedule-list", "POST"): lambda w: {
        "team": w.team.slug,
        "name": "Secondary",
        "time_zone": "Europe/Berlin",
        "layers": _layers(w),
    },
    ("api-schedule-detail", "PUT"): lambda w: {
        "name": "Renamed",
        "time_zone": "Europe/Berlin",
        "layers": _layers(w),
    },
    ("api-schedule-detail", "PATCH"): lambda w: {"name": "Renamed"},
    ("escalation-policy-new", "POST"): lambda w: {
        "team": w.team.slug,
        **_policy_form(w),
    },
    ("escalation-policy-edit", "POST"): lambda w: _policy_form(w, w.policy.name),
    ("escalation-policy-services", "POST"): lambda w: {"service": w.service.slug, "use": "1"},
    ("api-escalation-policies", "POST"): lambda w: {"team": w.team.slug, **_policy_json(w)},
    ("api-escalation-policy", "PUT"): lambda w: _policy_json(w, w.policy.name),
    ("api-escalation-policy", "PATCH"): lambda w: {"repeat": 1},
    ("contact-methods", "POST"): lambda w: {
        "kind": "email",
        "address": "new@example.com",
        "notify_escalations": "on",
    },
    ("contact-method-update", "POST"): lambda w: {"enabled": "on", "notify_escalations": "on"},
    ("account-time-zone", "POST"): lambda w: {"time_zone": "Europe/Berlin"},
    ("api-contact-methods", "POST"): lambda w: {"kind": "email", "address": "new@example.com"},
    ("api-contact-method", "PATCH"): lambda w: {"notify_handoffs": True},
    ("notification-rules", "POST"): lambda w: {
        "urgency": "high",
        "delay_minutes": "5",
        "contact_method": str(w.own_contact_method.pk),
    },
    ("api-notification-rules", "POST"): lambda w: {
        "urgency": "low",
        "delay_seconds": 300,
        "contact_method": w.own_contact_method.pk,
    },
    ("api-notification-rule", "PATCH"): lambda w: {"delay_seconds": 120},
    ("test-page", "POST"): lambda w: {"urgency": "high"},
    ("api-test-page", "POST"): lambda w: {"urgency": "high"},
    ("api-override-list", "POST"): lambda w: {
        "user": "responder",
        "start": _iso(w, 30),
        "end": _iso(w, 32),
    },
}
