"""A drill driven end to end through the API with a real Celery worker and beat: the alert
goes webhook -> worker -> incident, beat's follower attaches it to the drill, and the
review counts MTTD from the fault injection."""

import json
from datetime import datetime, timedelta

import pytest

from incidents.models import EventKind, Incident, IncidentEvent, IncidentStatus
from incidents.timeline import actions as incident_services
from metrics.models import DrillIncident, DrillService
from tests.support import am_alert, am_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def api(client, url, body=None):
    response = client.post(url, json.dumps(body or {}), content_type="application/json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def webhook(client, token, *, status, starts_at):
    alert = am_alert(
        "PrimaryDown",
        status=status,
        starts_at=starts_at,
        ends_at=starts_at if status == "resolved" else "0001-01-01T00:00:00Z",
    )
    response = client.post(
        f"/hooks/alertmanager/{token}",
        json.dumps(am_payload(alert, group_key="{}:{alertname=PrimaryDown}")),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content


def test_it_drives_a_drill_end_to_end_with_a_real_worker_and_beat(
    client, users, integration, make_worker
):
    _, token = integration
    make_worker("-B")
    client.force_login(users["manager"])
    drill = api(
        client,
        "/api/v1/drills/",
        {
            "team": "payments",
            "name": "Checkout failover",
            "grace_seconds": 120,
            "services": [
                {"service": "checkout", "max_mttd_seconds": 600, "max_mttr_seconds": 3600}
            ],
        },
    )
    base = f"/api/v1/drills/{drill['id']}"

    api(client, f"{base}/inject", {"service": "checkout"})
    injected = DrillService.objects.get(drill_id=drill["id"]).injected_at
    # The sender says the alert started before the injection: the drill still counts
    # detection from the injection, the moment the fault really began.
    early = (injected - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    webhook(client, token, status="firing", starts_at=early)

    attachment = wait_for(
        lambda: DrillIncident.objects.select_related("incident").first(),
        timeout=30,
        message="beat did not attach the drill's incident",
    )
    assert attachment.automatic and attachment.drill_id == drill["id"]
    incident = attachment.incident
    assert IncidentEvent.objects.filter(incident=incident, kind=EventKind.DRILL_ATTACHED).exists()

    incident_services.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    webhook(client, token, status="resolved", starts_at=early)
    wait_for(
        lambda: Incident.objects.filter(pk=incident.pk, status=IncidentStatus.RESOLVED).exists(),
        timeout=30,
        message="the worker did not resolve the incident",
    )
    api(client, f"{base}/restore", {"service": "checkout"})
    api(client, f"{base}/finish")

    incident.refresh_from_db()
    review = client.get(f"{base}/review").json()
    (checkout,) = review["services"]
    assert checkout["incidents"][0]["id"] == incident.pk
    assert datetime.fromisoformat(checkout["injected_at"]) == injected
    assert datetime.fromisoformat(checkout["detected_at"]) == incident.detected_at
    assert checkout["mttd_seconds"] == (incident.detected_at - injected).total_seconds()
    assert (
        checkout["mtta_seconds"]
        == (incident.acknowledged_at - incident.detected_at).total_seconds()
    )
    assert checkout["mttr_seconds"] == (incident.resolved_at - injected).total_seconds()
    assert 0 < checkout["mttd_seconds"] < 60
    assert (checkout["mttd_result"], checkout["mttr_result"]) == ("pass", "pass")
    assert review["result"] == "pass" and review["missed_detections"] == []
    assert review["drill"]["status"] == "finished"
