"""The real alert path: webhook -> committed delivery -> real Celery worker -> incident."""

import json

import pytest

from incidents.models import AlertDelivery, DeliveryStatus, Incident, IncidentStatus
from incidents.tests.factories import make_delivery
from tests.support import fixture_json, post_json, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_opens_and_resolves_the_incident(client, integration, celery_worker):
    _, token = integration
    response = post_json(
        client, f"/hooks/alertmanager/{token}", fixture_json("alertmanager/firing.json")
    )
    assert response.status_code == 202, response.content
    incident = wait_for(
        lambda: Incident.objects.filter(status=IncidentStatus.TRIGGERED).first(),
        message="the worker did not open an incident",
    )
    assert incident.title == "Instance checkout-1:8080 down"

    response = post_json(
        client, f"/hooks/alertmanager/{token}", fixture_json("alertmanager/resolved.json")
    )
    assert response.status_code == 202, response.content
    wait_for(
        lambda: Incident.objects.filter(pk=incident.pk, status=IncidentStatus.RESOLVED).exists(),
        message="the worker did not resolve the incident",
    )
    assert Incident.objects.count() == 1
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PROCESSED}


def test_deliveries_accepted_while_no_worker_runs_are_processed_later(
    client, integration, make_worker
):
    _, token = integration
    response = post_json(
        client, f"/hooks/alertmanager/{token}", fixture_json("alertmanager/firing.json")
    )
    assert response.status_code == 202, response.content
    assert AlertDelivery.objects.get().status == DeliveryStatus.PENDING
    # The kick message waits in the broker; a worker started later still drains it, and
    # beat's re-drive covers a kick that was lost altogether.
    make_worker("-B")
    wait_for(lambda: Incident.objects.exists(), timeout=15, message="pending delivery stranded")


def test_beat_redrives_a_delivery_whose_kick_was_lost(integration, make_worker, settings):
    from django.utils import timezone

    record, _ = integration
    # Stored without the after-commit kick, as if the broker had been down at the time.
    make_delivery(
        record,
        body=json.dumps(fixture_json("alertmanager/firing.json")),
        received_at=timezone.now(),
    )
    make_worker("-B")
    wait_for(
        lambda: Incident.objects.exists(),
        timeout=settings.PAGERLINE_REDRIVE_AFTER_SECONDS + 15,
        message="beat did not re-drive the delivery",
    )
