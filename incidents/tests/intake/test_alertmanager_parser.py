from datetime import UTC, datetime

import pytest

from incidents.alerts import AlertStatus, PayloadError, Severity
from incidents.intake.sources import alertmanager
from tests.support import fixture_json

GROUP = '{}/{severity="critical"}:{alertname="InstanceDown"}'


def test_it_parses_a_firing_alert():
    (event,) = alertmanager.parse(fixture_json("alertmanager/firing.json"))
    assert event.source == "alertmanager"
    assert event.incident_key == GROUP
    assert event.fingerprint == "5b3c1f5e0e6a9d2c"
    assert event.status is AlertStatus.FIRING
    assert event.title == "Instance checkout-1:8080 down"
    assert event.severity is Severity.CRITICAL
    assert event.labels["instance"] == "checkout-1:8080"
    assert event.annotations["description"].startswith("checkout-1:8080 of job checkout")
    # Nanosecond timestamps are cut to microseconds, never rejected.
    assert event.starts_at == datetime(2026, 11, 26, 10, 14, 31, 123456, tzinfo=UTC)
    assert event.ends_at is None  # Go's zero time means "still firing"
    assert event.links[0].href.startswith("http://prometheus:9090/graph")
    assert not event.heartbeat


def test_it_parses_a_resolved_alert_with_its_end_time():
    (event,) = alertmanager.parse(fixture_json("alertmanager/resolved.json"))
    assert event.status is AlertStatus.RESOLVED
    assert event.ends_at == datetime(2026, 11, 26, 10, 31, 1, 500000, tzinfo=UTC)
    assert event.incident_key == GROUP


def test_it_parses_every_alert_of_a_group():
    events = alertmanager.parse(fixture_json("alertmanager/multiple.json"))
    assert [e.fingerprint for e in events] == [
        "a1b2c3d4e5f60718",
        "0f1e2d3c4b5a6978",
        "99887766554433aa",
    ]
    assert [e.status for e in events] == ["firing", "firing", "resolved"]
    assert {e.incident_key for e in events} == {'{}:{alertname="HighLatency"}'}
    assert events[1].starts_at == datetime(2026, 11, 26, 9, 57, 30, tzinfo=UTC)
    assert [e.severity for e in events] == ["warning", "critical", "warning"]


def test_it_carries_the_truncated_count():
    events = alertmanager.parse(fixture_json("alertmanager/truncated.json"))
    assert {e.group_truncated for e in events} == {7}


def test_it_marks_the_watchdog_as_a_heartbeat():
    payload = fixture_json("alertmanager/firing.json")
    payload["alerts"][0]["labels"]["alertname"] = "Watchdog"
    (event,) = alertmanager.parse(payload)
    assert event.heartbeat


def test_it_derives_a_fingerprint_when_the_sender_has_none():
    payload = fixture_json("alertmanager/firing.json")
    del payload["alerts"][0]["fingerprint"]
    first = alertmanager.parse(payload)[0].fingerprint
    assert first == alertmanager.parse(payload)[0].fingerprint
    payload["alerts"][0]["labels"]["instance"] = "checkout-2:8080"
    assert alertmanager.parse(payload)[0].fingerprint != first


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda p: p.pop("alerts"), "alerts: expected a list"),
        (lambda p: p.update(alerts="nope"), "alerts: expected a list"),
        (lambda p: p["alerts"][0].update(status="burning"), "alerts[0].status"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "alerts[0].startsAt"),
        (lambda p: p["alerts"][0].update(labels=["a"]), "alerts[0].labels"),
        (lambda p: p.update(truncatedAlerts=-1), "truncatedAlerts"),
        (lambda p: p.update(groupKey=5), "groupKey"),
    ],
)
def test_it_names_each_bad_field(mutate, error):
    payload = fixture_json("alertmanager/firing.json")
    mutate(payload)
    assert any(message.startswith(error) for message in alertmanager.validate(payload))
    with pytest.raises(PayloadError):
        alertmanager.parse(payload)


def test_it_rejects_a_body_that_is_not_an_object():
    assert alertmanager.validate([1, 2]) == ["body: expected a JSON object"]
