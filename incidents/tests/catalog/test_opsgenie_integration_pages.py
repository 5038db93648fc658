"""An Opsgenie integration's page: its key and API URL once, and its named heartbeats
(listed for members, added by managers with errors next to the field)."""

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
