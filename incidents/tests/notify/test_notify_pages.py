"""Where people see paging: the incident page, the dashboard partials, the breakers page."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.maintenance import windows
from incidents.models import CircuitBreaker, Notification
from incidents.tests.factories import (
    make_alert_incident,
    make_contact_method,
    make_page,
    make_policy,
)
from incidents.tests.support import fire

pytestmark = pytest.mark.django_db


def test_the_incident_page_shows_who_was_notified_when(client, service, users):
    for name in ("responder", "manager"):
        make_contact_method(users[name])
    service.escalation_policy = make_policy(
        service.team, (0, [users["responder"], users["manager"]])
    )
    service.save()
    now = timezone.now()
    incident = make_alert_incident(service, now)
    fire(incident, now)
    first = Notification.objects.get(user=users["responder"])
    Notification.objects.filter(pk=first.pk).update(
        status="failed", error="HTTP 503: busy", finished_at=now
    )
    client.force_login(users["viewer"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    section = page[page.index("Who was notified") :]
    assert "responder" in section
    assert "manager" in section
    assert "HTTP 503: busy" in section
    assert "escalated to step 1 of 1: responder, manager" in page


def test_the_notifications_partial_queries_do_not_grow(
    client, service, users, django_assert_num_queries
):
    from django.template.loader import render_to_string

    make_contact_method(users["responder"])
    incident = make_alert_incident(service, timezone.now())
    for _ in range(5):
        make_page(users["responder"], at=timezone.now(), incident=incident, text="t")
    with django_assert_num_queries(1):
        html = render_to_string("incidents/_notifications.html", {"incident": incident})
    assert html.count("responder@example.com") == 5


def test_the_dashboard_warns_when_paging_reaches_nobody(client, service, users):
    service.escalation_policy = make_policy(service.team, (0, [users["viewer"]]))
    service.save()
    now = timezone.now()
    incident = make_alert_incident(service, now)
    fire(incident, now)
    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    assert "Paging may not reach anyone" in page
    assert "step 1 of 1 reached nobody" in page
    client.force_login(users["outsider"])
    assert "Paging may not reach anyone" not in client.get("/").content.decode()


def test_the_dashboard_shows_active_maintenance(client, service, users):
    now = timezone.now()
    windows.maintenance_create(
        team=service.team,
        services=[service],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(hours=1),
        reason="Kernel patching",
        created_by=users["manager"],
    )
    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    assert "In maintenance" in page
    assert "Kernel patching" in page


def test_managers_see_the_circuit_breakers(client, users):
    CircuitBreaker.objects.create(
        endpoint="hooks.example.com:443",
        state="open",
        failures=5,
        opened_at=datetime(2026, 11, 26, 10, 0, tzinfo=UTC),
        last_error="HTTP 502: bad gateway",
    )
    client.force_login(users["manager"])
    page = client.get("/notifications/breakers/").content.decode()
    assert "hooks.example.com:443" in page
    assert "HTTP 502: bad gateway" in page
    client.force_login(users["responder"])
    assert client.get("/notifications/breakers/").status_code == 403
