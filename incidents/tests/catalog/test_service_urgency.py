"""Which severities of a service page with high urgency: read and changed through the
service API by its managers, only known severities, audited; the admin checks the same."""

import pytest

from core.models import AuditEntry
from incidents.admin import ServiceAdminForm

pytestmark = pytest.mark.django_db

JSON = "application/json"


def test_a_service_pages_critical_and_error_with_high_urgency_by_default(client, users, service):
    client.force_login(users["viewer"])
    body = client.get(f"/api/v1/services/{service.slug}/").json()
    assert body["high_urgency_severities"] == ["critical", "error"]


def test_managers_choose_the_high_urgency_severities(client, users, service):
    client.force_login(users["manager"])
    url = f"/api/v1/services/{service.slug}/"
    response = client.patch(url, {"high_urgency_severities": ["warning", "critical"]}, JSON)
    assert response.status_code == 200, response.content
    # Stored most severe first, whatever order they were sent in.
    assert response.json()["high_urgency_severities"] == ["critical", "warning"]
    service.refresh_from_db()
    assert service.high_urgency_severities == ["critical", "warning"]
    entry = AuditEntry.objects.get(action="service.updated")
    assert entry.changes["high_urgency_severities"] == [
        ["critical", "error"],
        ["critical", "warning"],
    ]
    # None at all: every incident of the service pages with low urgency.
    assert (
        client.patch(url, {"high_urgency_severities": []}, JSON).json()["high_urgency_severities"]
        == []
    )


@pytest.mark.parametrize(
    "value",
    [["bogus"], "critical", [1], [["critical"]], None, {"critical": True}, ["critical"] * 5],
)
def test_only_known_severities_are_accepted(client, users, service, value):
    client.force_login(users["manager"])
    response = client.patch(
        f"/api/v1/services/{service.slug}/", {"high_urgency_severities": value}, JSON
    )
    assert response.status_code == 400, response.content
    assert "high_urgency_severities" in response.json()
    service.refresh_from_db()
    assert service.high_urgency_severities == ["critical", "error"]


def test_responders_cannot_change_the_urgency(client, users, service):
    client.force_login(users["responder"])
    response = client.patch(
        f"/api/v1/services/{service.slug}/", {"high_urgency_severities": ["info"]}, JSON
    )
    assert response.status_code == 403


def test_the_admin_form_refuses_unknown_severities(service):
    data = {
        "team": service.team_id,
        "slug": service.slug,
        "name": service.name,
        "description": "",
        "high_urgency_severities": '["critical", "loud"]',
        "slack_channel": "",
    }
    form = ServiceAdminForm(data, instance=service)
    assert not form.is_valid()
    assert "loud" in str(form.errors["high_urgency_severities"])
    form = ServiceAdminForm(
        {**data, "high_urgency_severities": '["info", "critical"]'}, instance=service
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["high_urgency_severities"] == ["critical", "info"]
