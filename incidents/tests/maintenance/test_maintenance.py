"""Maintenance windows: they hold paging, not data, and paging resumes when they end."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import FieldErrors
from incidents.intake.drain import deliveries_drain
from incidents.intake.store import delivery_accept
from incidents.maintenance import selectors, windows
from incidents.models import IncidentEscalation, MaintenanceWindow, Notification
from incidents.tests.factories import (
    make_alert_incident,
    make_contact_method,
    make_policy,
    make_service,
)
from incidents.tests.support import fire, timeline
from tests.support import am_alert, am_payload

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def paged(service, users):
    make_contact_method(users["responder"])
    service.escalation_policy = make_policy(
        service.team, (60, [users["responder"]]), (300, [users["responder"]])
    )
    service.save()
    return service


def window(service, users, start=T0, hours=2, reason="DB upgrade"):
    return windows.maintenance_create(
        team=service.team,
        services=[service],
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        reason=reason,
        created_by=users["manager"],
        now=start - timedelta(minutes=1),
    )


def test_an_alert_in_maintenance_opens_the_incident_but_pages_nobody(paged, users, integration):
    record, _ = integration
    planned = window(paged, users)
    # The real alert path: a delivery processed while the window is active.
    delivery_accept(
        integration=record,
        body=json.dumps(am_payload(am_alert())),
        received_at=T0 + timedelta(minutes=5),
    )
    deliveries_drain()
    incident = paged.incidents.get()
    assert incident.status == "triggered"
    escalation = IncidentEscalation.objects.get(incident=incident)
    assert (escalation.state, escalation.next_fire_at) == ("held", planned.ends_at)
    assert timeline(incident) == [
        "in maintenance until 2026-11-26 12:00 UTC (DB upgrade): nobody paged"
    ]
    # Its ETA at the window's end finds nobody else holding it: paging starts then, with the
    # first step's own delay counted from the end of the window.
    assert fire(incident, planned.ends_at) == "released"
    assert Notification.objects.count() == 0
    assert fire(incident, planned.ends_at + timedelta(seconds=60)) == "fired"
    assert Notification.objects.count() == 1


def test_ending_a_window_early_starts_paging_at_once(paged, users):
    planned = window(paged, users)
    incident = make_alert_incident(paged, T0 + timedelta(minutes=5))
    ended_at = T0 + timedelta(minutes=30)
    windows.maintenance_end(window_id=planned.pk, user=users["manager"], now=ended_at)
    escalation = IncidentEscalation.objects.get(incident=incident)
    assert escalation.next_fire_at == ended_at
    assert fire(incident, ended_at) == "released"
    assert fire(incident, ended_at + timedelta(seconds=60)) == "fired"
    planned.refresh_from_db()
    assert (planned.ends_at, planned.cancelled_at) == (ended_at, ended_at)


def test_a_window_that_starts_mid_escalation_holds_the_next_step(paged, users):
    incident = make_alert_incident(paged, T0 - timedelta(minutes=10))
    assert fire(incident, T0 - timedelta(minutes=9)) == "fired"  # step 1, before the window
    planned = window(paged, users, start=T0 - timedelta(minutes=5))
    assert fire(incident, T0 - timedelta(minutes=4)) == "held"  # step 2 was due
    assert Notification.objects.count() == 1
    # When it ends, the held step fires at once: it was already due.
    assert fire(incident, planned.ends_at) == "exhausted"
    assert Notification.objects.count() == 2


def test_an_incident_acknowledged_during_maintenance_is_not_paged_afterwards(paged, users):
    from incidents.timeline import actions

    planned = window(paged, users)
    incident = make_alert_incident(paged, T0 + timedelta(minutes=1))
    actions.incident_acknowledge(
        incident_id=incident.pk, user=users["responder"], at=T0 + timedelta(minutes=2)
    )
    assert fire(incident, planned.ends_at) == "stale"
    assert Notification.objects.count() == 0


def test_an_unrelated_service_is_paged_as_usual(paged, users, team):
    other = make_service(team, "search", "Search")
    other.escalation_policy = paged.escalation_policy
    other.save()
    window(paged, users)
    incident = make_alert_incident(other, T0 + timedelta(minutes=1))
    assert IncidentEscalation.objects.get(incident=incident).state == "active"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"services": []}, "services"),
        ({"ends_at": T0 - timedelta(hours=1)}, "ends_at"),
        ({"starts_at": T0 - timedelta(days=2), "ends_at": T0 - timedelta(days=1)}, "ends_at"),
        ({"starts_at": datetime(2026, 11, 26, 10, 0)}, "starts_at"),
    ],
)
def test_bad_windows_are_refused_naming_the_field(service, users, change, field):
    values = {
        "team": service.team,
        "services": [service],
        "starts_at": T0,
        "ends_at": T0 + timedelta(hours=1),
        "reason": "upgrade",
        "created_by": users["manager"],
        "now": T0 - timedelta(minutes=1),
        **change,
    }
    with pytest.raises(FieldErrors) as raised:
        windows.maintenance_create(**values)
    assert list(raised.value.errors) == [field]


def test_services_of_another_team_are_refused(service, users):
    from oncall.models import Team

    elsewhere = make_service(Team.objects.get(slug="other"), "billing", "Billing")
    with pytest.raises(FieldErrors, match="Billing"):
        windows.maintenance_create(
            team=service.team,
            services=[service, elsewhere],
            starts_at=T0,
            ends_at=T0 + timedelta(hours=1),
            reason="x",
            created_by=users["manager"],
            now=T0,
        )


def test_active_maintenance_shows_only_the_users_teams(service, users):
    planned = window(service, users)
    at = T0 + timedelta(minutes=1)
    assert selectors.active_maintenance(users["viewer"], now=at) == [planned]
    assert selectors.active_maintenance(users["outsider"], now=at) == []
    assert selectors.active_maintenance(users["viewer"], now=planned.ends_at) == []


# --- HTML ---------------------------------------------------------------------------------------


def form_data(service, **change):
    return {
        "team": service.team_id,
        "services": [service.pk],
        "starts_at": "2030-01-10T09:00",
        "ends_at": "2030-01-10T11:00",
        "reason": "Kernel patching",
        **change,
    }


def test_a_manager_plans_a_window_in_the_team_time_zone(client, service, users):
    client.force_login(users["manager"])
    response = client.post("/maintenance/", form_data(service))
    assert response.status_code == 302
    planned = MaintenanceWindow.objects.get()
    # The team is in Europe/Berlin: 09:00 local is 08:00 UTC in January.
    assert planned.starts_at == datetime(2030, 1, 10, 8, 0, tzinfo=UTC)
    assert list(planned.services.all()) == [service]
    page = client.get("/maintenance/").content.decode()
    assert "Kernel patching" in page
    assert "Cancel" in page


def test_the_form_names_the_bad_field(client, service, users):
    client.force_login(users["manager"])
    response = client.post("/maintenance/", form_data(service, ends_at="2030-01-10T08:00"))
    assert response.status_code == 400
    assert "must be after starts_at" in response.content.decode()
    assert not MaintenanceWindow.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_only_managers_plan_or_end_maintenance(client, service, users, role):
    planned = window(service, users, start=datetime.now(UTC) + timedelta(days=1))
    client.force_login(users[role])
    page = client.get("/maintenance/")
    assert page.status_code == 200
    assert "DB upgrade" in page.content.decode()
    assert "Plan maintenance" not in page.content.decode()
    assert client.post("/maintenance/", form_data(service)).status_code == 403
    assert client.post(f"/maintenance/{planned.pk}/end").status_code == 403


def test_outsiders_see_nothing(client, service, users):
    planned = window(service, users, start=datetime.now(UTC) + timedelta(days=1))
    client.force_login(users["outsider"])
    assert "DB upgrade" not in client.get("/maintenance/").content.decode()
    assert client.post(f"/maintenance/{planned.pk}/end").status_code == 404


def test_end_now_ends_an_active_window(client, service, users):
    planned = window(service, users, start=datetime.now(UTC) - timedelta(minutes=5))
    client.force_login(users["manager"])
    page = client.get("/maintenance/").content.decode()
    assert "End now" in page
    assert client.post(f"/maintenance/{planned.pk}/end").status_code == 302
    planned.refresh_from_db()
    assert planned.cancelled_at is not None
    assert planned.ends_at <= datetime.now(UTC)
    assert "End now" not in client.get("/maintenance/").content.decode()


def test_the_list_page_queries_do_not_grow_with_windows(
    client, service, users, django_assert_max_num_queries
):
    client.force_login(users["manager"])
    for hour in range(6):
        window(service, users, start=datetime.now(UTC) + timedelta(days=1, hours=hour))
    with django_assert_max_num_queries(12):
        assert client.get("/maintenance/").status_code == 200


# --- API ----------------------------------------------------------------------------------------


def api_body(service, **change):
    return {
        "team": service.team_id,
        "services": [service.pk],
        "starts_at": "2030-01-10T08:00:00Z",
        "ends_at": "2030-01-10T10:00:00Z",
        "reason": "Kernel patching",
        **change,
    }


def test_the_api_creates_lists_and_ends_windows(client, service, users):
    client.force_login(users["manager"])
    created = client.post(
        "/api/v1/maintenance-windows/", api_body(service), content_type="application/json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["starts_at"] == "2030-01-10T08:00:00Z"
    assert (body["services"], body["status"], body["created_by"]) == (
        [service.pk],
        "scheduled",
        "manager",
    )
    listed = client.get("/api/v1/maintenance-windows/").json()
    assert [w["id"] for w in listed["results"]] == [body["id"]]
    ended = client.post(f"/api/v1/maintenance-windows/{body['id']}/end")
    assert ended.status_code == 200
    assert ended.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/maintenance-windows/{body['id']}/end")
    assert again.status_code == 400
    assert "window" in again.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "2030-01-10T07:00:00Z"}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"services": []}, "services"),
        ({"services": [999999]}, "services"),
        ({"team": 999999}, "team"),
        ({"reason": ""}, "reason"),
    ],
)
def test_the_api_names_the_bad_field(client, service, users, change, field):
    client.force_login(users["manager"])
    response = client.post(
        "/api/v1/maintenance-windows/", api_body(service, **change), content_type="application/json"
    )
    assert response.status_code == 400
    assert field in response.json()


def test_the_api_scopes_and_checks_roles(client, service, users):
    planned = window(service, users, start=datetime.now(UTC) + timedelta(days=1))
    client.force_login(users["viewer"])
    assert client.get(f"/api/v1/maintenance-windows/{planned.pk}/").status_code == 200
    assert (
        client.post(
            "/api/v1/maintenance-windows/", api_body(service), content_type="application/json"
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/maintenance-windows/{planned.pk}/end").status_code == 403
    client.force_login(users["outsider"])
    assert client.get(f"/api/v1/maintenance-windows/{planned.pk}/").status_code == 404
    assert client.get("/api/v1/maintenance-windows/").json()["results"] == []


def test_the_api_list_queries_do_not_grow_with_windows(
    client, service, users, django_assert_max_num_queries
):
    client.force_login(users["viewer"])
    for hour in range(6):
        window(service, users, start=datetime.now(UTC) + timedelta(days=1, hours=hour))
    with django_assert_max_num_queries(6):
        assert len(client.get("/api/v1/maintenance-windows/").json()["results"]) == 6


def test_a_batch_of_firings_reads_the_windows_once_and_each_is_held(paged, users):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from incidents.escalation import runs

    incidents = [make_alert_incident(paged, T0, key=f"k{n}") for n in range(3)]
    window(paged, users, start=T0 + timedelta(seconds=30))
    due = T0 + timedelta(seconds=60)  # the first step, inside the window
    pairs = list(
        IncidentEscalation.objects.filter(incident__in=incidents).values_list("pk", "token")
    )
    with CaptureQueriesContext(connection) as queries:
        outcomes = runs.escalations_advance(pairs=pairs, now=due)

    assert outcomes == ["held"] * 3
    assert Notification.objects.count() == 0
    table = MaintenanceWindow._meta.db_table
    assert sum(f'FROM "{table}"' in query["sql"] for query in queries) == 1
