"""The Opsgenie-compatible API: Opsgenie's paths, GenieKey authentication and answers; a
202 means the delivery is committed; a refused request stores nothing."""

import json
import uuid

import pytest

from incidents.intake import drain
from incidents.intake.heartbeats import heartbeats_check
from incidents.models import (
    AlertDelivery,
    DeliveryStatus,
    EventKind,
    Incident,
    IncidentStatus,
    NamedHeartbeat,
)
from incidents.tests.factories import make_integration
from tests.support import fixture_json, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def opsgenie(service):
    return make_integration(service, source="opsgenie")


def _key(token: str) -> dict:
    return {"Authorization": f"GenieKey {token}"}


def _create(client, token, **fields):
    body = {**fixture_json("opsgenie/create.json"), **fields}
    return post_json(client, "/v2/alerts", body, **_key(token))


def _drain():
    drain.deliveries_drain(max_seconds=5)


def _stored() -> dict:
    return json.loads(AlertDelivery.objects.get().body)


def test_a_create_is_stored_before_the_answer_and_answered_as_opsgenie_does(client, opsgenie):
    _, token = opsgenie
    response = _create(client, token)
    assert response.status_code == 202
    answer = response.json()
    assert set(answer) == {"result", "took", "requestId"}
    assert answer["result"] == "Request will be processed"
    assert isinstance(answer["took"], float)
    assert str(uuid.UUID(answer["requestId"])) == answer["requestId"]
    stored = _stored()
    assert stored["action"] == "create"
    assert stored["requestId"] == answer["requestId"]
    assert stored["alert"]["alias"] == "checkout-api-error-rate"
    assert AlertDelivery.objects.get().status == DeliveryStatus.PENDING


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Could not authenticate: send the header 'Authorization: GenieKey <key>'"),
        (
            {"Authorization": "Bearer abc"},
            "Could not authenticate: send the header 'Authorization: GenieKey <key>'",
        ),
        (
            {"Authorization": "GenieKey wrong-key"},
            "Could not authenticate: no enabled integration has this key",
        ),
    ],
)
def test_it_refuses_a_missing_or_wrong_key_with_401_and_stores_nothing(
    client, opsgenie, headers, message
):
    body = fixture_json("opsgenie/create.json")
    response = post_json(client, "/v2/alerts", body, **headers)
    assert response.status_code == 401
    answer = response.json()
    assert answer["message"].startswith(message)
    assert set(answer) == {"message", "took", "requestId"}
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_the_key_of_another_kind_of_integration_with_403(client, integration):
    _, token = integration  # an Alertmanager integration
    response = _create(client, token)
    assert response.status_code == 403
    assert "Prometheus Alertmanager integration" in response.json()["message"]
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_a_disabled_integrations_key(client, opsgenie):
    record, token = opsgenie
    record.enabled = False
    record.save(update_fields=["enabled"])
    assert _create(client, token).status_code == 401
    assert AlertDelivery.objects.count() == 0


def test_it_answers_422_naming_each_bad_field(client, opsgenie):
    _, token = opsgenie
    response = _create(client, token, message="", priority="urgent")
    assert response.status_code == 422
    answer = response.json()
    assert answer["message"] == "Request body is not processable. Please check the errors."
    assert answer["errors"] == {
        "message": "Message can not be empty.",
        "priority": "must be one of P1, P2, P3, P4, P5",
    }
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_a_body_that_is_not_json(client, opsgenie):
    _, token = opsgenie
    response = post_json(client, "/v2/alerts", "{not json", **_key(token))
    assert response.status_code == 400
    assert response.json()["message"].startswith("body is not valid JSON")
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_an_unknown_identifier_type(client, opsgenie):
    _, token = opsgenie
    response = post_json(client, "/v2/alerts/a/close?identifierType=name", {}, **_key(token))
    assert response.status_code == 422
    assert response.json()["errors"] == {"identifierType": "must be one of id, alias, tiny"}


def test_create_acknowledge_note_close_by_alias_make_one_incident(client, opsgenie):
    _, token = opsgenie
    assert _create(client, token).status_code == 202
    # The same alias again: the same alert (Opsgenie's deduplication).
    assert _create(client, token).status_code == 202
    _drain()
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.dedup_key == "checkout-api-error-rate"
    assert incident.severity == "critical"
    assert incident.title == "Checkout API error rate above 5%"

    path = "/v2/alerts/checkout-api-error-rate"
    for action, fixture in (("acknowledge", "acknowledge"), ("notes", "note")):
        response = post_json(
            client,
            f"{path}/{action}?identifierType=alias",
            fixture_json(f"opsgenie/{fixture}.json"),
            **_key(token),
        )
        assert response.status_code == 202, response.content
    _drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    notes = incident.events.filter(kind=EventKind.NOTE).values_list("data", flat=True)
    assert [n["text"].split("\n")[0] for n in notes] == [
        "Opened by the checkout error-rate rule.",
        "Action executed via Alert API",
        "Rollback of release 2026.12.1 started",
    ]

    # Our alert id is the alias: the default identifierType (id) names the same alert.
    response = post_json(client, f"{path}/close", {}, **_key(token))
    assert response.status_code == 202
    _drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert Incident.objects.count() == 1


def test_a_close_without_a_body_is_accepted(client, opsgenie):
    _, token = opsgenie
    response = client.post(
        "/v2/alerts/x/close?identifierType=alias", "", content_type="", headers=_key(token)
    )
    assert response.status_code == 202
    assert _stored()["alert"] == {}


def test_a_tiny_id_is_the_incident_number(client, opsgenie):
    _, token = opsgenie
    _create(client, token)
    _drain()
    incident = Incident.objects.get()
    response = post_json(
        client, f"/v2/alerts/{incident.pk}/close?identifierType=tiny", {}, **_key(token)
    )
    assert response.status_code == 202
    _drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    response = post_json(client, "/v2/alerts/99999/close?identifierType=tiny", {}, **_key(token))
    assert response.status_code == 404
    assert response.json()["message"] == "Alert with tiny id [99999] does not exist"


def test_request_status_is_404_until_processed_then_success(client, opsgenie):
    _, token = opsgenie
    request_id = _create(client, token).json()["requestId"]
    url = f"/v2/alerts/requests/{request_id}"
    pending = client.get(url, headers=_key(token))
    assert pending.status_code == 404
    assert pending.json()["message"] == "Request not found. It might not be processed, yet."
    _drain()
    done = client.get(url, headers=_key(token))
    assert done.status_code == 200
    data = done.json()["data"]
    assert data["isSuccess"] is True and data["success"] is True
    assert data["action"] == "Create"
    assert data["status"] == "Created alert"
    assert data["alertId"] == data["alias"] == "checkout-api-error-rate"
    assert done.json()["requestId"] == request_id


def test_request_status_of_a_close_for_an_unknown_alert_says_it_failed(client, opsgenie):
    _, token = opsgenie
    response = post_json(client, "/v2/alerts/nope/close?identifierType=alias", {}, **_key(token))
    _drain()
    status = client.get(f"/v2/alerts/requests/{response.json()['requestId']}", headers=_key(token))
    data = status.json()["data"]
    assert data["isSuccess"] is False
    assert data["action"] == "Close"
    assert "unknown key 'nope'" in data["status"]


def test_request_status_reads_only_deliveries_stored_around_the_request(client, opsgenie):
    """The request id carries its instant, so a lookup never scans the integration's whole
    inbox: a delivery stored long after the id was made is not its request."""
    from datetime import timedelta

    from incidents.models import AlertDelivery

    _, token = opsgenie
    request_id = _create(client, token).json()["requestId"]
    _drain()
    assert client.get(f"/v2/alerts/requests/{request_id}", headers=_key(token)).status_code == 200
    delivery = AlertDelivery.objects.get(body__contains=request_id)
    AlertDelivery.objects.filter(pk=delivery.pk).update(
        received_at=delivery.received_at + timedelta(hours=1)
    )
    assert client.get(f"/v2/alerts/requests/{request_id}", headers=_key(token)).status_code == 404
    # Not one of ours (a version-4 UUID): answered as not processed, nothing read.
    unknown = "0b6b3c4e-8d0a-4b8e-9a57-5d1d6b3f2c11"
    assert client.get(f"/v2/alerts/requests/{unknown}", headers=_key(token)).status_code == 404


def test_request_status_belongs_to_the_integration_that_made_it(client, opsgenie, service):
    _, token = opsgenie
    _, other_token = make_integration(service, source="opsgenie", name="other")
    request_id = _create(client, token).json()["requestId"]
    _drain()
    response = client.get(f"/v2/alerts/requests/{request_id}", headers=_key(other_token))
    assert response.status_code == 404


def test_named_heartbeats_are_created_pinged_and_checked(client, opsgenie):
    from datetime import timedelta

    from django.utils import timezone

    record, token = opsgenie
    body = {"name": "nightly-backup", "interval": 10, "intervalUnit": "minutes", "enabled": True}
    response = post_json(client, "/v2/heartbeats", body, **_key(token))
    assert response.status_code == 201, response.content
    assert response.json()["data"] == {"name": "nightly-backup", "enabled": True, "expired": False}
    heartbeat = NamedHeartbeat.objects.get()
    assert heartbeat.integration == record and heartbeat.interval_seconds == 600

    again = post_json(client, "/v2/heartbeats", body, **_key(token))
    assert again.status_code == 422
    assert again.json()["errors"] == {"name": "a heartbeat named 'nightly-backup' already exists"}

    for method in ("get", "post"):
        ping = getattr(client, method)("/v2/heartbeats/nightly-backup/ping", headers=_key(token))
        assert ping.status_code == 202
        assert ping.json()["result"] == "PONG - Heartbeat received"
    heartbeat.refresh_from_db()
    assert heartbeat.last_ping_at is not None

    # Opsgenie answers a ping of a name it does not know like any other.
    unknown = client.get("/v2/heartbeats/no-such-heartbeat/ping", headers=_key(token))
    assert unknown.status_code == 202
    assert unknown.json()["result"] == "PONG - Heartbeat received"
    assert NamedHeartbeat.objects.count() == 1

    late = heartbeat.last_ping_at + timedelta(minutes=11)
    assert heartbeats_check(now=late) == 1
    incident = Incident.objects.get()
    assert incident.title.startswith("No heartbeat from nightly-backup")
    assert incident.status == IncidentStatus.TRIGGERED
    assert heartbeats_check(now=late) == 0
    NamedHeartbeat.objects.update(last_ping_at=timezone.now() + timedelta(minutes=12))
    assert heartbeats_check(now=late + timedelta(minutes=2)) == 1
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_a_heartbeat_ping_needs_the_key(client, opsgenie):
    response = client.get("/v2/heartbeats/nightly-backup/ping")
    assert response.status_code == 401


def test_a_heartbeat_needs_a_valid_interval(client, opsgenie):
    _, token = opsgenie
    body = {"name": "x", "interval": 0, "intervalUnit": "weeks"}
    response = post_json(client, "/v2/heartbeats", body, **_key(token))
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "interval": "must be a positive whole number",
        "intervalUnit": "must be one of minutes, hours, days",
    }
    assert NamedHeartbeat.objects.count() == 0
