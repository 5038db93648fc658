"""A team's settings page: its managers (and staff) rename the team and change its time zone
(audited); the slug stays; a refused value is named next to its field; members are refused
(403), outsiders learn nothing (404); the form needs its CSRF token."""

import re

import pytest
from django.test import Client

from core.models import AuditEntry
from oncall.models import Team
from oncall.tests.factories import make_user

pytestmark = pytest.mark.django_db

PAGE = "/teams/payments/"
SETTINGS = "/teams/payments/settings"


def payments() -> Team:
    return Team.objects.get(slug="payments")


def test_a_manager_renames_the_team_and_changes_its_time_zone(client, users):
    client.force_login(users["manager"])
    assert f'href="{SETTINGS}"' in client.get(PAGE).content.decode()
    form = client.get(SETTINGS).content.decode()
    assert 'value="Payments"' in form and "Europe/Berlin" in form
    assert "weekly report is due on Monday at 06:00" in form
    assert re.search(r"Slug <code>payments</code>: it stays", form)

    response = client.post(SETTINGS, {"name": "Payments EU", "time_zone": "America/New_York"})
    assert response.status_code == 302 and response["Location"] == PAGE
    team = payments()
    assert (team.name, team.time_zone) == ("Payments EU", "America/New_York")
    entry = AuditEntry.objects.get(action="team.updated")
    assert entry.team_id == team.pk and entry.actor_id == users["manager"].pk
    assert entry.changes["time_zone"] == ["Europe/Berlin", "America/New_York"]
    page = client.get(PAGE).content.decode()
    assert "Team Payments EU saved." in page and "time zone America/New_York" in page


def test_a_bad_time_zone_or_an_empty_name_is_named_next_to_its_field(client, users):
    client.force_login(users["manager"])
    response = client.post(SETTINGS, {"name": "Payments", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert re.search(r'data-error="time_zone">Select a valid choice', response.content.decode())
    response = client.post(SETTINGS, {"name": "  ", "time_zone": "UTC"})
    assert response.status_code == 400
    assert re.search(r'data-error="name">A team needs a name', response.content.decode())
    team = payments()
    assert (team.name, team.time_zone) == ("Payments", "Europe/Berlin")
    assert not AuditEntry.objects.filter(action="team.updated").exists()


def test_the_slug_stays_whatever_is_sent(client, users):
    client.force_login(users["manager"])
    response = client.post(SETTINGS, {"name": "Pay", "slug": "pay", "time_zone": "UTC"})
    assert response.status_code == 302
    assert payments().name == "Pay" and not Team.objects.filter(slug="pay").exists()


@pytest.mark.parametrize("who", ["responder", "viewer"])
def test_members_are_refused_and_see_no_link(client, users, who):
    client.force_login(users[who])
    assert f'href="{SETTINGS}"' not in client.get(PAGE).content.decode()
    assert client.get(SETTINGS).status_code == 403
    assert client.post(SETTINGS, {"name": "Mine", "time_zone": "UTC"}).status_code == 403
    assert payments().name == "Payments"


def test_outsiders_get_404(client, users):
    client.force_login(users["outsider"])
    assert client.get(SETTINGS).status_code == 404
    assert client.post(SETTINGS, {"name": "Mine", "time_zone": "UTC"}).status_code == 404
    assert payments().name == "Payments"


def test_staff_change_any_team(client, users):
    client.force_login(make_user("root", is_staff=True))
    response = client.post(SETTINGS, {"name": "Payments", "time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert payments().time_zone == "Asia/Tokyo"


def test_the_form_needs_its_csrf_token(users):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["manager"])
    assert "csrfmiddlewaretoken" in browser.get(SETTINGS).content.decode()
    response = browser.post(SETTINGS, {"name": "Forged", "time_zone": "UTC"})
    assert response.status_code == 403
    assert payments().name == "Payments"
