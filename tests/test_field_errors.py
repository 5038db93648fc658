"""Every API names refused input one way: 400 with DRF's body, {"field": ["message", ...]}
(nested input nests), whether a serializer or a service (core.errors.FieldErrors, through
core.api_errors) refused it. One endpoint of each area, each refused by its service."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from core.errors import FieldErrors
from incidents.timeline import actions
from oncall.tests.test_api_schedules import body as schedule_body
from tests.support import post_json

JSON = "application/json"


def _messages_only(errors: dict) -> bool:
    """Each value a non-empty list of non-empty strings, or the same shape nested."""
    for value in errors.values():
        if isinstance(value, dict):
            if not value or not _messages_only(value):
                return False
        elif not (
            isinstance(value, list) and value and all(isinstance(m, str) and m for m in value)
        ):
            return False
    return True


def assert_field_errors(response, *path: str) -> list[str]:
    """The answer is a field-errors 400 naming `path`; returns that field's messages."""
    assert response.status_code == 400, response.content
    errors = response.json()
    assert isinstance(errors, dict) and errors
    assert _messages_only(errors), errors
    for key in path:
        errors = errors[key]
    assert isinstance(errors, list), errors
    return errors


def test_catalog_service(manager_client, service):
    response = manager_client.patch(
        "/api/v1/services/checkout/", {"escalation_policy": 999_999}, content_type=JSON
    )
    assert response.json() == {"escalation_policy": ["no such policy in the service's team"]}
    assert_field_errors(response, "escalation_policy")


def test_routing_rule(manager_client, integration):
    record, _ = integration
    response = post_json(
        manager_client,
        f"/api/v1/integrations/{record.pk}/routing-rules/",
        {"service": "checkout", "matchers": [{"label": "service", "op": "~", "value": "x"}]},
    )
    assert "matchers[0].op" in assert_field_errors(response, "matchers")[0]


def test_named_heartbeat(manager_client, service):
    from incidents.tests.factories import make_integration, make_named_heartbeat

    opsgenie, _ = make_integration(service, source="opsgenie")
    make_named_heartbeat(opsgenie, "cron")
    response = post_json(
        manager_client,
        "/api/v1/heartbeats/",
        {"integration": opsgenie.pk, "name": "cron", "interval_seconds": 600},
    )
    assert response.json() == {"name": ["a heartbeat named 'cron' already exists"]}
    assert_field_errors(response, "name")


def test_escalation_policy(manager_client, users):
    response = post_json(
        manager_client,
        "/api/v1/escalation-policies/",
        {"team": "payments", "name": "Primary", "steps": [{"targets": [{"user": "viewer"}]}]},
    )
    messages = assert_field_errors(response, "steps[0].targets[0].user")
    assert "could not acknowledge" in messages[0]


def test_maintenance_window(manager_client, service):
    start = timezone.now() + timedelta(hours=2)
    response = post_json(
        manager_client,
        "/api/v1/maintenance-windows/",
        {
            "team": service.team_id,
            "services": [service.pk],
            "starts_at": start.isoformat(),
            "ends_at": (start - timedelta(hours=1)).isoformat(),
            "reason": "upgrade",
        },
    )
    assert response.json() == {"ends_at": ["must be after starts_at"]}
    assert_field_errors(response, "ends_at")


def test_contact_method(manager_client):
    post_json(
        manager_client, "/api/v1/contact-methods/", {"kind": "email", "address": "me@example.com"}
    )
    again = post_json(
        manager_client, "/api/v1/contact-methods/", {"kind": "email", "address": "me@example.com"}
    )
    assert again.json() == {"address": ["You already have this contact method."]}
    assert_field_errors(again, "address")


def test_schedule(manager_client):
    layer = dict(schedule_body()["layers"][1], participants=["outsider"])
    response = post_json(manager_client, "/api/v1/schedules/", schedule_body(layers=[layer]))
    assert "outsider" in " ".join(assert_field_errors(response, "layers", "0", "participants"))


def test_incident_action(manager_client, service, users):
    incident = actions.incident_create(
        service=service, title="Checkout slow", severity="warning", user=users["manager"]
    )
    response = post_json(
        manager_client, f"/api/v1/incidents/{incident.pk}/assign/", {"assignee": users["viewer"].pk}
    )
    assert response.json() == {"assignee": ["must be a responder or manager of Payments"]}
    assert_field_errors(response, "assignee")


def test_a_serializers_refusal_has_the_same_shape(manager_client):
    response = post_json(
        manager_client, "/api/v1/contact-methods/", {"kind": "pigeon", "address": "x"}
    )
    assert_field_errors(response, "kind")


def test_field_errors_list_each_fields_messages_and_read_as_text():
    error = FieldErrors({"name": "Required.", "layers": {1: {"end": ["Too early.", "Odd."]}}})
    assert error.errors == {"name": ["Required."], "layers": {1: {"end": ["Too early.", "Odd."]}}}
    assert list(error.flat()) == [("name", "Required."), ("layers.1.end", "Too early. Odd.")]
    assert str(error) == "name: Required.; layers.1.end: Too early. Odd."
    assert isinstance(error, ValueError)


def test_the_schema_documents_that_400_on_every_operation_that_takes_input():
    from drf_spectacular.generators import SchemaGenerator

    document = SchemaGenerator().get_schema(request=None, public=True)
    shape = document["components"]["schemas"]["FieldErrors"]
    assert shape["type"] == "object" and "additionalProperties" in shape
    taking_input = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation or operation.get("parameters")
    ]
    assert len(taking_input) > 30
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in taking_input
        if operation["responses"].get("400", {}).get("content", {}).get(JSON, {}).get("schema")
        != {"$ref": "#/components/schemas/FieldErrors"}
    ]
    assert not missing
