"""Who may respond to a team's incidents, as incidents' selectors read it: responders and
managers (oncall.permissions.RESPONDING_ROLES) may open incidents for its services, be
assigned and be paged; viewers and outsiders may not; staff open incidents anywhere.
The actions themselves are checked in test_actions.py; the rule in oncall/tests/test_roles.py."""

from datetime import UTC, datetime

import pytest

from incidents.alerts import AlertEvent, AlertStatus
from incidents.escalation.selectors import pageable_members
from incidents.intake import apply
from incidents.models import Incident
from incidents.timeline import selectors

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


def test_responders_and_managers_open_incidents_for_the_teams_services(service, users):
    for role in ("manager", "responder"):
        assert list(selectors.services_to_respond(users[role])) == [service], role
    for role in ("viewer", "outsider"):
        assert list(selectors.services_to_respond(users[role])) == [], role


def test_staff_open_incidents_for_every_service(service, users, django_user_model):
    admin = django_user_model.objects.create_user("admin", is_staff=True)
    assert list(selectors.services_to_respond(admin)) == [service]


def test_incidents_are_assigned_to_responders_and_managers_of_the_team(integration, users):
    record, _ = integration
    event = AlertEvent(
        source="alertmanager",
        incident_key="group-1",
        fingerprint="fp-1",
        status=AlertStatus.FIRING,
        title="checkout is failing",
        severity="critical",
        starts_at=T0,
    )
    apply.alerts_apply(integration=record, alert_events=[event], received_at=T0)
    incident = Incident.objects.get()
    assert [u.username for u in selectors.assignable_members(incident)] == [
        "manager",
        "responder",
    ]


def test_policies_page_active_responders_and_managers_only(team, users):
    assert [u.username for u in pageable_members(team)] == ["manager", "responder"]
    users["responder"].is_active = False
    users["responder"].save()
    assert [u.username for u in pageable_members(team)] == ["manager"]
