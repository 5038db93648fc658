"""Heartbeat pings and the failed-deliveries page."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from incidents.intake import apply, drain, store
from incidents.models import AlertDelivery, DeliveryStatus, Integration

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_records_a_heartbeat_ping(client, integration, method):
    record, token = integration
    response = getattr(client, method)(f"/hooks/heartbeat/{token}")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert Integration.objects.get(pk=record.pk).last_heartbeat_at is not None


def test_a_heartbeat_with_a_wrong_token_is_404(client, integration):
    response = client.post("/hooks/heartbeat/nope")
    assert response.status_code == 404
    assert response.json()["message"] == "no such integration"


def test_an_older_heartbeat_never_moves_the_time_back(integration):
    record, _ = integration
    apply.integration_heartbeat(integration=record, at=T0)
    apply.integration_heartbeat(integration=record, at=T0 - timedelta(minutes=5))
    assert Integration.objects.get(pk=record.pk).last_heartbeat_at == T0


def _failed_delivery(record):
    store.delivery_accept(integration=record, body='{"alerts": 3}', received_at=T0)
    drain.deliveries_drain()
    return AlertDelivery.objects.get(status=DeliveryStatus.FAILED)


def test_managers_see_and_retry_failed_deliveries(client, users, integration):
    record, _ = integration
    delivery = _failed_delivery(record)
    client.force_login(users["manager"])
    page = client.get("/deliveries/failed/").content.decode()
    assert "alerts: expected a list" in page and "Retry" in page
    client.post(f"/deliveries/{delivery.pk}/retry")
    assert AlertDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.PENDING


def test_viewers_see_failed_deliveries_but_cannot_retry(client, users, integration):
    record, _ = integration
    delivery = _failed_delivery(record)
    client.force_login(users["viewer"])
    assert "Retry" not in client.get("/deliveries/failed/").content.decode()
    client.post(f"/deliveries/{delivery.pk}/retry")
    assert AlertDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.FAILED


def test_outsiders_see_no_failed_deliveries(client, users, integration):
    record, _ = integration
    delivery = _failed_delivery(record)
    client.force_login(users["outsider"])
    assert "alerts: expected a list" not in client.get("/deliveries/failed/").content.decode()
    assert client.post(f"/deliveries/{delivery.pk}/retry").status_code == 404


def test_a_payload_with_nul_characters_is_processed(integration):
    from tests.support import am_alert, am_payload

    record, _ = integration
    payload = am_payload(am_alert("Nul\u0000Alert", instance="a\u0000b"))
    store.delivery_accept(integration=record, body=json.dumps(payload), received_at=T0)
    drain.deliveries_drain()
    assert AlertDelivery.objects.get().status == DeliveryStatus.PROCESSED
