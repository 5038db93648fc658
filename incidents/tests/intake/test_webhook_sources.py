"""The webhook endpoints of the Grafana, PagerDuty and generic sources, and their deliveries
processed into incidents."""

import json

import pytest

from incidents.intake import drain, store
from incidents.models import AlertDelivery, DeliveryStatus, Incident, IncidentStatus
from incidents.tests.factories import make_integration
from tests.support import fixture_json, post_json

pytestmark = pytest.mark.django_db

PD_INVALID = {"status": "invalid event", "message": "Event object is invalid"}
PD_BAD_KEY = {
    "status": "invalid event",
    "message": "Routing key is invalid",
    "errors": ["routing_key: no integration has this routing key"],
}
MAPPING = {
    "mapping": {
        "title": "data.alert.name",
        "dedup_key": "data.id",
        "status": "data.state",
        "severity": "data.alert.priority",
        "source": "items.0.name",
        "started_at": "data.triggered_at",
        "details": "data.context",
    },
    "status_map": {"ok": "resolved", "alerting": "firing"},
}


@pytest.fixture
def pagerduty(service):
    return make_integration(service, source="pagerduty")


@pytest.fixture
def grafana(service):
    return make_integration(service, source="grafana")


@pytest.fixture
def generic(service):
    return make_integration(service, source="generic")


def _event(name, token=None, **changes):
    event = fixture_json(f"pagerduty/{name}.json")
    if token is not None:
        event["routing_key"] = token
    event.update(changes)
    return event


def _stored() -> dict:
    return json.loads(AlertDelivery.objects.get().body)


# --- PagerDuty: /v2/enqueue ---------------------------------------------------------------


def test_it_generates_and_stores_a_dedup_key_for_a_trigger_without_one(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(hook_client, "/v2/enqueue", _event("trigger_without_dedup_key", token))
    assert response.status_code == 202
    answer = response.json()
    assert answer == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": answer["dedup_key"],
    }
    assert len(answer["dedup_key"]) == 32
    stored = _stored()
    assert stored["dedup_key"] == answer["dedup_key"]
    assert stored["payload"]["summary"] == "Payment provider returns 502 for 12% of requests"
    # The routing key is the integration's credential: only its hash is kept.
    assert "routing_key" not in stored


def test_it_answers_with_the_senders_dedup_key(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(hook_client, "/v2/enqueue/", _event("trigger", token))
    assert response.status_code == 202
    assert response.json()["dedup_key"] == "checkout-db-1/disk"
    assert _stored()["dedup_key"] == "checkout-db-1/disk"


def test_it_requires_a_dedup_key_to_acknowledge(hook_client, pagerduty):
    _, token = pagerduty
    event = _event("acknowledge", token)
    del event["dedup_key"]
    response = post_json(hook_client, "/v2/enqueue", event)
    assert response.status_code == 400
    assert response.json() == {**PD_INVALID, "errors": ["dedup_key: is required for acknowledge"]}
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_an_unknown_event_action(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(
        hook_client, "/v2/enqueue", _event("trigger", token, event_action="escalate")
    )
    assert response.status_code == 400
    assert response.json() == {
        **PD_INVALID,
        "errors": ["event_action: must be one of trigger, acknowledge, resolve"],
    }
    assert AlertDelivery.objects.count() == 0


def test_it_names_every_bad_field_of_a_trigger(hook_client, pagerduty):
    _, token = pagerduty
    event = _event("trigger", token)
    event["payload"] = {"summary": "", "source": "db", "severity": "high"}
    response = post_json(hook_client, "/v2/enqueue", event)
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "payload.summary: is required",
        "payload.severity: must be one of critical, error, warning, info",
    ]


@pytest.mark.parametrize(
    ("routing_key", "answer"),
    [
        # PagerDuty answers an unknown routing key with 400 (its API has no 404).
        ("wrong-key", PD_BAD_KEY),
        (None, {**PD_INVALID, "errors": ["routing_key: is required"]}),
        (12345, {**PD_INVALID, "errors": ["routing_key: must be a string"]}),
    ],
)
def test_it_refuses_a_bad_routing_key_as_pagerduty_does(
    hook_client, pagerduty, routing_key, answer
):
    event = _event("trigger")
    event["routing_key"] = routing_key
    response = post_json(hook_client, "/v2/enqueue", event)
    assert response.status_code == 400
    assert response.json() == answer
    assert AlertDelivery.objects.count() == 0


def test_it_refuses_the_token_of_another_source_as_a_routing_key(hook_client, integration):
    _, alertmanager_token = integration
    response = post_json(hook_client, "/v2/enqueue", _event("trigger", alertmanager_token))
    assert response.status_code == 400
    assert response.json() == PD_BAD_KEY


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("{not json", "application/json", 400, "not valid JSON"),
        (b'{"routing_key": "\xff"}', "application/json", 400, "UTF-8"),
        ('{"a": "' + "x" * (1024 * 1024) + '"}', "application/json", 413, "larger"),
        ("routing_key=x", "application/x-www-form-urlencoded", 415, "Content-Type"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "nested deeper than 32"),
    ],
)
def test_it_keeps_the_generic_errors_for_unreadable_bodies(
    hook_client, pagerduty, body, content_type, status, message
):
    response = post_json(hook_client, "/v2/enqueue", body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["status"] == "error"
    assert message in response.json()["message"]


@pytest.mark.parametrize("source", ["grafana", "pagerduty", "generic"])
def test_every_source_refuses_a_body_nested_too_deep(hook_client, service, source):
    _, token = make_integration(service, source=source)
    # Far too deep for Python's json module (RecursionError), and decoded but too deep.
    for body in ("[" * 100_000 + "]" * 100_000, _details_nested(40)):
        response = post_json(hook_client, f"/hooks/{source}/{token}", body)
        assert response.status_code == 400, source
        assert response.json() == {
            "status": "error",
            "message": "body is nested deeper than 32 levels",
        }
    assert not AlertDelivery.objects.exists()


def _details_nested(levels: int) -> dict:
    value: dict = {}
    for _ in range(levels - 1):
        value = {"nested": value}
    return {"details": value}


def test_it_refuses_get_on_enqueue(hook_client):
    response = hook_client.get("/v2/enqueue")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_it_answers_503_for_pagerduty_when_the_database_is_down(
    hook_client, pagerduty, monkeypatch
):
    from django.db import OperationalError

    def down(**kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(store, "delivery_accept", down)
    _, token = pagerduty
    response = post_json(hook_client, "/v2/enqueue", _event("trigger", token))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


# --- PagerDuty: /hooks/pagerduty/<token> --------------------------------------------------


def test_it_takes_pagerduty_events_with_the_token_in_the_url(hook_client, pagerduty):
    _, token = pagerduty
    event = _event("resolve")
    del event["routing_key"]
    response = post_json(hook_client, f"/hooks/pagerduty/{token}", event)
    assert response.status_code == 202
    assert response.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout-db-1/disk",
    }


def test_it_ignores_the_routing_key_when_the_url_has_the_token(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(hook_client, f"/hooks/pagerduty/{token}", _event("trigger", "anything"))
    assert response.status_code == 202
    assert "routing_key" not in _stored()


def test_it_answers_pagerduty_errors_on_the_hooks_route(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(hook_client, f"/hooks/pagerduty/{token}", {"event_action": "resolve"})
    assert response.status_code == 400
    assert response.json() == {**PD_INVALID, "errors": ["dedup_key: is required for resolve"]}


def test_it_keeps_404_for_an_unknown_token_on_the_hooks_route(hook_client, pagerduty):
    response = post_json(hook_client, "/hooks/pagerduty/wrong-token", _event("trigger"))
    assert response.status_code == 404
    assert response.json() == PD_BAD_KEY
    missing = post_json(hook_client, "/hooks/pagerduty", _event("trigger"))
    assert missing.status_code == 404
    assert missing.json() == PD_BAD_KEY


# --- Grafana and generic ------------------------------------------------------------------


def test_it_accepts_grafana(hook_client, grafana):
    _, token = grafana
    body = json.dumps(fixture_json("grafana/firing.json"))
    response = post_json(hook_client, f"/hooks/grafana/{token}", body)
    assert response.status_code == 202
    delivery = AlertDelivery.objects.get()
    assert response.json() == {"status": "accepted", "delivery": delivery.pk}
    assert delivery.body == body


def test_it_refuses_an_invalid_grafana_payload(hook_client, grafana):
    _, token = grafana
    payload = fixture_json("grafana/firing.json")
    payload["alerts"][0]["values"] = {"B": "high"}
    response = post_json(hook_client, f"/hooks/grafana/{token}", payload)
    assert response.status_code == 400
    assert response.json()["errors"] == ["alerts[0].values.B: expected a number"]


def test_it_accepts_generic(hook_client, generic):
    _, token = generic
    response = post_json(
        hook_client, f"/hooks/generic/{token}", fixture_json("generic/firing.json")
    )
    assert response.status_code == 202
    assert response.json()["status"] == "accepted"


def test_it_accepts_generic_with_a_mapping(hook_client, generic):
    record, token = generic
    record.options = MAPPING
    record.save()
    response = post_json(
        hook_client, f"/hooks/generic/{token}", fixture_json("generic/mapped.json")
    )
    assert response.status_code == 202
    # The same body without the mapping lacks a title.
    record.options = {}
    record.save()
    response = post_json(
        hook_client, f"/hooks/generic/{token}", fixture_json("generic/mapped.json")
    )
    assert response.status_code == 400
    assert response.json()["errors"] == ["title: is required"]


def test_it_names_the_mapped_path_that_is_missing(hook_client, generic):
    record, token = generic
    record.options = MAPPING
    record.save()
    payload = fixture_json("generic/mapped.json")
    del payload["data"]["alert"]["name"]
    response = post_json(hook_client, f"/hooks/generic/{token}", payload)
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "message": "payload is not a valid generic webhook",
        "errors": ["data.alert.name (mapped to title): is required"],
    }


# --- processing -------------------------------------------------------------------------------


def test_it_opens_and_resolves_an_incident_from_grafana(hook_client, grafana):
    _, token = grafana
    post_json(hook_client, f"/hooks/grafana/{token}", fixture_json("grafana/firing.json"))
    drain.deliveries_drain()
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.title == "CPU above 90% on checkout-1"
    assert incident.severity == "critical"
    assert incident.dedup_key.endswith(':{alertname="HighCPU", grafana_folder="Checkout"}')
    alert = incident.alerts.get()
    assert alert.annotations["value.B"] == "93.41666666666667"
    assert {"href": alert.links[0]["href"], "text": "Alert rule"} == alert.links[0]
    post_json(hook_client, f"/hooks/grafana/{token}", fixture_json("grafana/resolved.json"))
    drain.deliveries_drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_it_opens_and_resolves_an_incident_from_pagerduty(hook_client, pagerduty):
    _, token = pagerduty
    response = post_json(hook_client, "/v2/enqueue", _event("trigger_without_dedup_key", token))
    dedup_key = response.json()["dedup_key"]
    drain.deliveries_drain()
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.title == "Payment provider returns 502 for 12% of requests"
    assert incident.severity == "warning"
    assert incident.dedup_key == dedup_key
    assert incident.alerts.get().fingerprint == dedup_key
    resolve = {"routing_key": token, "event_action": "resolve", "dedup_key": dedup_key}
    assert post_json(hook_client, "/v2/enqueue", resolve).status_code == 202
    drain.deliveries_drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert set(AlertDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.PROCESSED}


def test_it_opens_and_resolves_an_incident_from_a_mapped_generic_sender(hook_client, generic):
    record, token = generic
    record.options = MAPPING
    record.save()
    payload = fixture_json("generic/mapped.json")
    post_json(hook_client, f"/hooks/generic/{token}", payload)
    drain.deliveries_drain()
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.title == "Checkout error budget burn"
    assert incident.severity == "critical"
    assert incident.dedup_key == "48213"
    payload["data"]["state"] = "ok"
    post_json(hook_client, f"/hooks/generic/{token}", payload)
    drain.deliveries_drain()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_it_stores_the_longest_dedup_key_and_nul_characters(hook_client, pagerduty):
    # Alert.fingerprint holds 200 characters and PostgreSQL refuses NUL: neither may make a
    # delivery fail on every retry.
    _, token = pagerduty
    event = _event("trigger", token, dedup_key="k" * 255)
    event["payload"]["summary"] = "Disk\u0000 full"
    event["payload"]["custom_details"] = {"note\u0000": "a\u0000b"}
    assert post_json(hook_client, "/v2/enqueue", event).status_code == 202
    drain.deliveries_drain()
    assert AlertDelivery.objects.get().status == DeliveryStatus.PROCESSED
    incident = Incident.objects.get()
    assert incident.dedup_key == "k" * 255
    assert incident.title == "Disk full"
    assert incident.alerts.get().annotations == {"note": "ab"}
