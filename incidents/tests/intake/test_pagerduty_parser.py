from datetime import UTC, datetime

import pytest

from incidents.alerts import AlertStatus, Link, PayloadError, Severity
from incidents.intake.sources import pagerduty
from tests.support import fixture_json


def test_it_parses_a_trigger():
    (event,) = pagerduty.parse(fixture_json("pagerduty/trigger.json"))
    assert event.source == "pagerduty"
    assert event.incident_key == event.fingerprint == "checkout-db-1/disk"
    assert event.status is AlertStatus.FIRING
    assert event.title == "DISK at 99% on checkout-db-1"
    assert event.severity is Severity.CRITICAL
    assert event.labels == {
        "source": "checkout-db-1.example.com",
        "severity": "critical",
        "component": "postgres",
        "group": "checkout-db",
        "class": "disk",
    }
    assert event.annotations == {
        "free space": "1%",
        "load avg": "0.75",
        "mounts": '{"/": "41%", "/var/lib/postgresql": "99%"}',
    }
    # PagerDuty's +0000 offset without a colon.
    assert event.starts_at == datetime(2026, 11, 26, 10, 14, 31, 315000, tzinfo=UTC)
    assert event.ends_at is None
    assert event.links == (
        Link("https://monitoring.example.com/hosts/checkout-db-1", "Host dashboard"),
        Link("https://runbooks.example.com/checkout/disk-full", ""),
        Link(
            "https://monitoring.example.com/render/checkout-db-1/disk.png",
            "Disk usage, last 6 hours",
        ),
        Link(
            "https://monitoring.example.com/graphs/checkout-db-1/disk",
            "Disk usage, last 6 hours (link)",
        ),
        Link("https://monitoring.example.com", "Example Monitoring"),
    )
    assert not event.heartbeat


def test_it_parses_a_minimal_trigger():
    payload = fixture_json("pagerduty/trigger_without_dedup_key.json")
    (event,) = pagerduty.parse(payload)
    assert event.title == "Payment provider returns 502 for 12% of requests"
    assert event.severity is Severity.WARNING
    assert event.labels == {"source": "checkout-api", "severity": "warning"}
    assert event.annotations == {}
    assert event.starts_at is None
    assert event.links == ()
    # Stored events always carry a key (see prepare); a direct caller gets a stable one.
    assert event.incident_key == event.fingerprint == pagerduty.parse(payload)[0].fingerprint


def test_it_parses_an_acknowledge():
    (event,) = pagerduty.parse(fixture_json("pagerduty/acknowledge.json"))
    assert event.status is AlertStatus.ACKNOWLEDGED
    assert event.incident_key == event.fingerprint == "checkout-db-1/disk"
    assert event.title == "checkout-db-1/disk"


def test_it_parses_a_resolve():
    payload = fixture_json("pagerduty/resolve.json")
    payload["payload"] = {"summary": "Disk cleaned up", "severity": "nonsense"}
    (event,) = pagerduty.parse(payload)
    assert event.status is AlertStatus.RESOLVED
    assert event.incident_key == event.fingerprint == "checkout-db-1/disk"
    # The payload of a resolve is ignored except for its summary.
    assert event.title == "Disk cleaned up"


def test_it_generates_a_dedup_key_for_a_trigger_without_one():
    payload = fixture_json("pagerduty/trigger_without_dedup_key.json")
    prepared, extra = pagerduty.prepare(payload)
    assert len(extra["dedup_key"]) == 32
    assert prepared["dedup_key"] == extra["dedup_key"]
    assert "dedup_key" not in payload  # the caller's dict is left alone
    assert pagerduty.validate(prepared) == []
    assert pagerduty.parse(prepared)[0].fingerprint == extra["dedup_key"]
    assert pagerduty.prepare(payload)[1]["dedup_key"] != extra["dedup_key"]


@pytest.mark.parametrize("name", ["trigger.json", "acknowledge.json", "resolve.json"])
def test_it_returns_the_given_dedup_key_and_drops_the_routing_key(name):
    prepared, extra = pagerduty.prepare(fixture_json(f"pagerduty/{name}"))
    assert extra == {"dedup_key": "checkout-db-1/disk"}
    assert prepared["dedup_key"] == "checkout-db-1/disk"
    assert "routing_key" not in prepared


def test_it_keeps_custom_details_that_are_not_an_object():
    payload = fixture_json("pagerduty/trigger.json")
    payload["payload"]["custom_details"] = "Triggered metrics:\n\ndisk: 99"
    assert pagerduty.validate(payload) == []
    (event,) = pagerduty.parse(payload)
    assert event.annotations == {"custom_details": "Triggered metrics:\n\ndisk: 99"}
    payload["payload"]["custom_details"] = [1, 2]
    assert pagerduty.parse(payload)[0].annotations == {"custom_details": "[1, 2]"}


def test_it_shortens_a_long_key_to_fit_the_alert_fingerprint_column():
    payload = fixture_json("pagerduty/trigger.json")
    payload["dedup_key"] = "k" * 255
    (event,) = pagerduty.parse(payload)
    assert event.incident_key == "k" * 255
    assert len(event.fingerprint) == 200
    assert event.fingerprint != pagerduty.parse({**payload, "dedup_key": "k" * 254})[0].fingerprint


def _trigger(**changes):
    payload = fixture_json("pagerduty/trigger.json")
    for path, value in changes.items():
        target = payload
        *parents, name = path.split("__")
        for parent in parents:
            target = target[parent]
        if value is DELETE:
            del target[name]
        else:
            target[name] = value
    return payload


DELETE = object()
SEVERITY_ERROR = "payload.severity: must be one of critical, error, warning, info"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"event_action": "trigger"}, "payload: is required"),
        (_trigger(event_action=DELETE), "event_action: is required"),
        (_trigger(event_action="escalate"), "event_action: must be one of trigger, ackno"),
        (_trigger(event_action=["trigger"]), "event_action: must be one of trigger, ackno"),
        (_trigger(payload="disk full"), "payload: must be an object"),
        (_trigger(payload__summary=DELETE), "payload.summary: is required"),
        (_trigger(payload__summary="  "), "payload.summary: is required"),
        (_trigger(payload__summary=42), "payload.summary: must be a string"),
        (_trigger(payload__summary="x" * 1025), "payload.summary: must be at most 1024"),
        (_trigger(payload__source=DELETE), "payload.source: is required"),
        (_trigger(payload__source=["db"]), "payload.source: must be a string"),
        (_trigger(payload__severity=DELETE), SEVERITY_ERROR),
        (_trigger(payload__severity="high"), SEVERITY_ERROR),
        (_trigger(payload__severity="CRITICAL"), SEVERITY_ERROR),
        (_trigger(payload__timestamp="yesterday"), "payload.timestamp"),
        (_trigger(payload__timestamp=1795659271), "payload.timestamp: must be an ISO 8601"),
        (_trigger(payload__component=1), "payload.component: must be a string"),
        (_trigger(payload__group={}), "payload.group: must be a string"),
        (_trigger(payload__class=True), "payload.class: must be a string"),
        (_trigger(dedup_key=7), "dedup_key: must be a string"),
        (_trigger(dedup_key="k" * 256), "dedup_key: must be at most 255 characters"),
        (_trigger(links="https://x"), "links: must be a list"),
        (_trigger(links=["https://x"]), "links[0]: must be an object"),
        (_trigger(links=[{"text": "no href"}]), "links[0].href: is required"),
        (_trigger(links=[{"href": "https://x", "text": 1}]), "links[0].text: must be a string"),
        (_trigger(images=[{"alt": "no src"}]), "images[0].src: is required"),
        (_trigger(images=[{"src": "https://x", "href": 1}]), "images[0].href: must be a string"),
        (_trigger(client=1), "client: must be a string"),
        (_trigger(client_url=["https://x"]), "client_url: must be a string"),
        ({"event_action": "acknowledge"}, "dedup_key: is required for acknowledge"),
        ({"event_action": "resolve", "dedup_key": ""}, "dedup_key: is required for resolve"),
        ({"event_action": "resolve", "dedup_key": None}, "dedup_key: is required for resolve"),
        ({"event_action": "resolve", "dedup_key": 5}, "dedup_key: must be a string"),
        ([{"event_action": "trigger"}], "body: must be a JSON object"),
    ],
)
def test_it_names_each_bad_field(payload, error):
    errors = pagerduty.validate(payload)
    assert any(message.startswith(error) for message in errors), errors
    with pytest.raises(PayloadError):
        pagerduty.parse(payload)


def test_it_reports_every_bad_field_at_once():
    errors = pagerduty.validate({"event_action": "trigger", "payload": {"severity": "high"}})
    assert errors == [
        "payload.summary: is required",
        "payload.source: is required",
        SEVERITY_ERROR,
    ]


def test_it_accepts_a_resolve_with_only_a_key():
    # The routing key may be absent: the URL's token authenticates /hooks/pagerduty/<token>.
    assert pagerduty.validate({"event_action": "resolve", "dedup_key": "abc"}) == []
