"""An Opsgenie integration's page: its key and API URL once, and its named heartbeats
(listed for members; added, changed and deleted by managers, with errors next to the field)."""

import re

import pytest

from core.models import AuditEntry
from incidents.intake import drain
from incidents.models import AlertDelivery, Incident, Integration, NamedHeartbeat
from incidents.tests.factories import make_integration, make_named_heartbeat
from tests.support import post_json

pytestmark = pytest.mark.django_db

LIST = "/services/checkout/integrations/"


def test_a_new_opsgenie_integration_shows_the_api_url_and_its_genie_key(manager_client, service):
    response = manager_client.post(LIST, {"source": "opsgenie", "name": "Opsgenie senders"})
    assert response.status_code == 200
    page = response.content.decode()
    assert re.search(r'data-role="webhook-url">https?://[^<]+/v2/alerts</code>', page)
    assert "Authorization: GenieKey " in page and "opsgenie_configs" in page
    assert Integration.objects.get().source == "opsgenie"


def test_the_opsgenie_parser_is_not_reachable_at_the_hooks_path(client, service):
    _, token = make_integration(service, source="opsgenie")
    body = {"requestId": "x", "action": "create", "alert": {"message": "x"}}
    response = post_json(client, f"/hooks/opsgenie/{token}", body)
    assert response.status_code == 404
    assert AlertDelivery.objects.count() == 0


def test_a_manager_adds_a_named_heartbeat(manager_client, service):
    integration, _ = make_integration(service, source="opsgenie")
    url = f"{LIST}{integration.pk}/heartbeats"
    response = manager_client.post(url, {"name": "nightly-backup", "interval_minutes": "30"})
    assert response.status_code == 302
    heartbeat = NamedHeartbeat.objects.get()
    assert heartbeat.integration == integration and heartbeat.interval_seconds == 1800
    assert AuditEntry.objects.filter(action="integration.heartbeat_created").count() == 1
    page = manager_client.get(f"{LIST}{integration.pk}/").content.decode()
    assert 'data-heartbeat="nightly-backup"' in page and "every 30 min" in page
    assert "never pinged" in page

    again = manager_client.post(url, {"name": "nightly-backup", "interval_minutes": "5"})
    assert again.status_code == 400
    assert "a heartbeat named &#x27;nightly-backup&#x27; already exists" in again.content.decode()
    zero = manager_client.post(url, {"name": "other", "interval_minutes": "0"})
    assert zero.status_code == 400
    assert 'data-role="interval-error"' in zero.content.decode()
    assert NamedHeartbeat.objects.count() == 1


def test_members_see_heartbeats_but_only_managers_add_them(client, users, service):
    integration, _ = make_integration(service, source="opsgenie")
    make_named_heartbeat(integration, "hourly-export", interval_seconds=3600)
    client.force_login(users["responder"])
    page = client.get(f"{LIST}{integration.pk}/").content.decode()
    assert 'data-heartbeat="hourly-export"' in page and "every 60 min" in page
    assert "Add a heartbeat" not in page
    response = client.post(
        f"{LIST}{integration.pk}/heartbeats", {"name": "x", "interval_minutes": 5}
    )
    assert response.status_code == 403


def test_only_an_opsgenie_integration_has_named_heartbeats(manager_client, integration):
    record, _ = integration  # Alertmanager
    assert "Named heartbeats" not in manager_client.get(f"{LIST}{record.pk}/").content.decode()
    response = manager_client.post(
        f"{LIST}{record.pk}/heartbeats", {"name": "x", "interval_minutes": "5"}
    )
    assert response.status_code == 400
    assert NamedHeartbeat.objects.count() == 0


def test_a_test_alert_of_an_opsgenie_integration_opens_a_test_incident(manager_client, service):
    integration, _ = make_integration(service, source="opsgenie")
    response = manager_client.post(f"{LIST}{integration.pk}/test")
    assert response.status_code == 302
    drain.deliveries_drain(max_seconds=5)
    incident = Incident.objects.get()
    assert incident.title.startswith("[TEST] Test alert from Pagerline")
    assert incident.severity == "info"  # P5


def _edit_url(integration, heartbeat) -> str:
    return f"/services/{integration.service.slug}/integrations/heartbeats/{heartbeat.pk}/"


def test_a_manager_changes_a_heartbeats_interval_description_and_watch(manager_client, service):
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "nightly-backup", interval_seconds=1800)
    page = manager_client.get(f"{LIST}{integration.pk}/").content.decode()
    url = _edit_url(integration, heartbeat)
    assert f'href="{url}"' in page
    form = manager_client.get(url).content.decode()
    assert 'value="30"' in form and "The name stays" in form

    response = manager_client.post(
        url, {"interval_minutes": "90", "description": "  pg_dump to S3 ", "enabled": ""}
    )
    assert response.status_code == 302 and response["Location"] == f"{LIST}{integration.pk}/"
    heartbeat.refresh_from_db()
    assert (heartbeat.name, heartbeat.interval_seconds) == ("nightly-backup", 5400)
    assert (heartbeat.description, heartbeat.enabled) == ("pg_dump to S3", False)
    entry = AuditEntry.objects.get(action="integration.heartbeat_updated")
    assert entry.changes["interval_seconds"] == [1800, 5400]
    assert entry.changes["enabled"] == [True, False]
    page = manager_client.get(f"{LIST}{integration.pk}/").content.decode()
    assert "Heartbeat nightly-backup saved." in page
    assert "every 90 min" in page and "not watched" in page and "pg_dump to S3" in page


def test_a_bad_interval_is_named_next_to_its_field(manager_client, service):
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "nightly-backup", interval_seconds=1800)
    for interval in ("0", "soon", ""):
        response = manager_client.post(
            _edit_url(integration, heartbeat), {"interval_minutes": interval, "enabled": "on"}
        )
        assert response.status_code == 400
        assert 'data-error="interval_minutes"' in response.content.decode()
    heartbeat.refresh_from_db()
    assert heartbeat.interval_seconds == 1800
    assert not AuditEntry.objects.filter(action="integration.heartbeat_updated").exists()


def test_a_manager_deletes_a_heartbeat_after_opening_the_danger_zone(manager_client, service):
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "nightly-backup")
    url = _edit_url(integration, heartbeat)
    form = manager_client.get(url).content.decode()
    # The deletion is behind a <details> disclosure: a second, deliberate click, no script.
    assert re.search(r'<details class="card danger-zone">\s*<summary>Delete this heartbeat', form)
    assert f'action="{url}delete"' in form
    assert manager_client.get(f"{url}delete").status_code == 405
    response = manager_client.post(f"{url}delete")
    assert response.status_code == 302 and response["Location"] == f"{LIST}{integration.pk}/"
    assert not NamedHeartbeat.objects.exists()
    assert AuditEntry.objects.filter(action="integration.heartbeat_deleted").count() == 1
    page = manager_client.get(f"{LIST}{integration.pk}/").content.decode()
    assert "Heartbeat nightly-backup deleted" in page and "No named heartbeats." in page
    assert manager_client.get(url).status_code == 404


@pytest.mark.parametrize("who", ["responder", "viewer"])
def test_members_cannot_change_or_delete_heartbeats(client, users, service, who):
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "hourly-export", interval_seconds=3600)
    url = _edit_url(integration, heartbeat)
    client.force_login(users[who])
    assert f'href="{url}"' not in client.get(f"{LIST}{integration.pk}/").content.decode()
    assert client.get(url).status_code == 403
    assert client.post(url, {"interval_minutes": "1", "enabled": "on"}).status_code == 403
    assert client.post(f"{url}delete").status_code == 403
    heartbeat.refresh_from_db()
    assert heartbeat.interval_seconds == 3600


def test_outsiders_learn_nothing_of_a_heartbeat(client, users, service):
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "hourly-export")
    url = _edit_url(integration, heartbeat)
    client.force_login(users["outsider"])
    assert client.get(url).status_code == 404
    assert client.post(f"{url}delete").status_code == 404
    assert NamedHeartbeat.objects.count() == 1


def test_a_heartbeat_is_found_only_under_its_own_service(manager_client, users, service, team):
    from incidents.tests.factories import make_service

    other = make_service(team, "search", "Search")
    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "hourly-export")
    url = f"/services/{other.slug}/integrations/heartbeats/{heartbeat.pk}/"
    assert manager_client.get(url).status_code == 404
    assert manager_client.post(f"{url}delete").status_code == 404
    assert NamedHeartbeat.objects.count() == 1


def test_the_heartbeat_forms_need_their_csrf_token(users, service):
    from django.test import Client

    integration, _ = make_integration(service, source="opsgenie")
    heartbeat = make_named_heartbeat(integration, "hourly-export")
    url = _edit_url(integration, heartbeat)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["manager"])
    assert "csrfmiddlewaretoken" in browser.get(url).content.decode()
    assert browser.post(url, {"interval_minutes": "1", "enabled": "on"}).status_code == 403
    assert browser.post(f"{url}delete").status_code == 403
    heartbeat.refresh_from_db()
    assert heartbeat.interval_seconds == 600
