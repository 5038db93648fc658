"""The Opsgenie parser reads the envelope the API view stores around a sender's body
(fixtures: incidents/tests/fixtures/opsgenie/, see its README for their origin)."""

import pytest

from incidents.alerts import AlertStatus, PayloadError, Severity
from incidents.intake.sources import opsgenie
from tests.support import fixture_json


def _envelope(action: str, body: dict, identifier: str | None = None) -> dict:
    envelope = {"requestId": "7c4a1e2b-0d1f-4b6a-9a57-2f3c1d2e4b5a", "action": action}
    if identifier is not None:
        envelope["identifier"] = identifier
    envelope["alert"] = body
    return envelope


def test_it_parses_a_create_with_the_alias_as_the_dedup_key():
    (event,) = opsgenie.parse(_envelope("create", fixture_json("opsgenie/create.json")))
    assert event.source == "opsgenie"
    assert event.incident_key == event.fingerprint == "checkout-api-error-rate"
    assert event.status is AlertStatus.FIRING
    assert event.title == "Checkout API error rate above 5%"
    assert event.severity is Severity.CRITICAL
    assert event.labels == {
        "region": "eu-west-1",
        "dashboard": "https://grafana.example.com/d/checkout",
        "entity": "checkout-api",
        "source": "prometheus",
        "priority": "P1",
        "tags": "checkout,Critical",
    }
    assert event.annotations == {
        "description": "5xx responses were 7.2% of checkout requests over the last 5 minutes."
    }
    assert event.note == (
        "Opened by the checkout error-rate rule.\n\n— monitoring@example.com (Opsgenie API)"
    )


@pytest.mark.parametrize(
    ("priority", "severity"),
    [
        ("P1", Severity.CRITICAL),
        ("P2", Severity.ERROR),
        ("P3", Severity.WARNING),
        ("P4", Severity.INFO),
        ("P5", Severity.INFO),
        (None, Severity.WARNING),  # Opsgenie's default priority is P3
    ],
)
def test_it_maps_each_priority_to_a_severity(priority, severity):
    body = {"message": "Disk full"}
    if priority:
        body["priority"] = priority
    (event,) = opsgenie.parse(_envelope("create", body))
    assert event.severity is severity
    assert event.labels["priority"] == (priority or "P3")


def test_a_create_without_an_alias_is_its_own_alert_named_by_the_request_id():
    (event,) = opsgenie.parse(_envelope("create", {"message": "Disk full"}))
    assert event.incident_key == "7c4a1e2b-0d1f-4b6a-9a57-2f3c1d2e4b5a"
    assert event.note == ""


@pytest.mark.parametrize(
    ("action", "fixture", "status"),
    [
        ("close", "close", AlertStatus.RESOLVED),
        ("acknowledge", "acknowledge", AlertStatus.ACKNOWLEDGED),
        ("note", "note", AlertStatus.NOTE),
    ],
)
def test_it_parses_an_action_on_an_alert_by_its_alias(action, fixture, status):
    envelope = _envelope(
        action, fixture_json(f"opsgenie/{fixture}.json"), "checkout-api-error-rate"
    )
    (event,) = opsgenie.parse(envelope)
    assert event.incident_key == event.fingerprint == "checkout-api-error-rate"
    assert event.status is status
    assert event.note.startswith(fixture_json(f"opsgenie/{fixture}.json")["note"])
    assert event.note.endswith("— Monitoring Script (Opsgenie API)")


@pytest.mark.parametrize(
    ("envelope", "errors"),
    [
        (_envelope("create", {}), ["message: Message can not be empty."]),
        (
            _envelope("create", {"message": "x", "priority": "P0", "tags": "a,b"}),
            ["priority: must be one of P1, P2, P3, P4, P5", "tags: must be a list of strings"],
        ),
        (
            _envelope("create", {"message": "x", "alias": "a" * 513, "details": []}),
            ["alias: must be at most 512 characters", "details: must be an object of strings"],
        ),
        (_envelope("note", {"note": " "}, "a"), ["note: Note can not be empty."]),
        (_envelope("close", {}), ["identifier: is required"]),
        (
            _envelope("escalate", {}, "a"),
            ["action: must be one of create, close, acknowledge, note"],
        ),
        ([], ["body: must be a JSON object"]),
    ],
)
def test_it_names_each_bad_field(envelope, errors):
    assert opsgenie.validate(envelope) == errors
    with pytest.raises(PayloadError) as raised:
        opsgenie.parse(envelope)
    assert raised.value.errors == errors


def test_it_accepts_and_ignores_responders_visible_to_and_actions():
    body = fixture_json("opsgenie/create.json")
    assert opsgenie.validate(_envelope("create", body)) == []
    (event,) = opsgenie.parse(_envelope("create", body))
    assert "responders" not in event.labels and "actions" not in event.labels


def test_it_drops_nul_characters_postgresql_cannot_store():
    (event,) = opsgenie.parse(_envelope("create", {"message": "Disk\x00 full", "alias": "a\x00b"}))
    assert event.title == "Disk full"
    assert event.incident_key == "ab"
