"""Processing deliveries into incidents, called directly (the worker runs the same code)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from incidents.intake import drain, store
from incidents.models import (
    Alert,
    AlertDelivery,
    DeliveryStatus,
    Incident,
    IncidentEvent,
    IncidentStatus,
)
from incidents.tests.support import deliver
from incidents.timeline import actions, projection, selectors
from tests.support import am_alert, am_payload, fixture_json

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 15, tzinfo=UTC)


def test_it_opens_an_incident_from_a_firing_alert(integration):
    record, _ = integration
    deliver(record, fixture_json("alertmanager/firing.json"), T0)
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.title == "Instance checkout-1:8080 down"
    assert incident.severity == "critical"
    assert incident.detected_at == T0
    assert incident.source_started_at == datetime(2026, 11, 26, 10, 14, 31, 123456, tzinfo=UTC)
    assert incident.impact_started_at == incident.source_started_at
    assert [e.kind for e in incident.events.all()] == ["triggered", "alert_fired"]
    assert AlertDelivery.objects.get().status == DeliveryStatus.PROCESSED


def test_it_resolves_when_every_alert_is_resolved(integration):
    record, _ = integration
    deliver(record, fixture_json("alertmanager/firing.json"), T0)
    deliver(record, fixture_json("alertmanager/resolved.json"), T0 + timedelta(minutes=16))
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at == T0 + timedelta(minutes=16)
    assert [e.kind for e in incident.events.all()] == [
        "triggered",
        "alert_fired",
        "alert_resolved",
        "resolved",
    ]
    alert = Alert.objects.get()
    assert alert.ends_at == datetime(2026, 11, 26, 10, 31, 1, 500000, tzinfo=UTC)


def test_it_stays_open_while_one_alert_of_the_group_fires(integration):
    record, _ = integration
    first = am_alert(fingerprint="a", instance="one")
    second = am_alert(fingerprint="b", instance="two")
    deliver(record, am_payload(first, second), T0)
    deliver(record, am_payload({**first, "status": "resolved"}, second), T0 + timedelta(minutes=1))
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.alerts.filter(status="firing").count() == 1


def test_repeated_snapshots_do_not_inflate_anything(integration):
    record, _ = integration
    payload = fixture_json("alertmanager/firing.json")
    for minute in range(5):
        deliver(record, payload, T0 + timedelta(minutes=minute))
    incident = Incident.objects.get()
    assert incident.events.count() == 2
    assert Alert.objects.get().fire_count == 1


def test_a_new_firing_after_resolve_opens_a_new_incident(integration):
    record, _ = integration
    deliver(record, fixture_json("alertmanager/firing.json"), T0)
    deliver(record, fixture_json("alertmanager/resolved.json"), T0 + timedelta(minutes=5))
    deliver(record, fixture_json("alertmanager/firing.json"), T0 + timedelta(minutes=30))
    assert Incident.objects.count() == 2
    assert Incident.objects.filter(status=IncidentStatus.TRIGGERED).count() == 1


def test_a_stale_snapshot_never_overrides_newer_state(integration):
    record, _ = integration
    resolved = fixture_json("alertmanager/resolved.json")
    firing = fixture_json("alertmanager/firing.json")
    deliver(record, firing, T0)
    deliver(record, resolved, T0 + timedelta(minutes=10))
    # A retry of an older firing snapshot, received earlier but processed late.
    store.delivery_accept(
        integration=record, body=json.dumps(firing), received_at=T0 + timedelta(minutes=5)
    )
    drain.deliveries_drain()
    assert Incident.objects.count() == 1
    assert Incident.objects.get().status == IncidentStatus.RESOLVED


def test_it_records_sender_truncation_once(integration):
    record, _ = integration
    payload = fixture_json("alertmanager/truncated.json")
    deliver(record, payload, T0)
    deliver(record, payload, T0 + timedelta(minutes=1))
    truncations = IncidentEvent.objects.filter(kind="sender_truncated")
    assert [e.data["count"] for e in truncations] == [7]


def test_heartbeat_alerts_never_open_incidents(integration):
    record, _ = integration
    deliver(record, am_payload(am_alert("Watchdog", severity="none")), T0)
    assert Incident.objects.count() == 0


def test_a_bad_payload_fails_the_delivery_and_keeps_it(integration):
    record, _ = integration
    store.delivery_accept(integration=record, body='{"alerts": 3}', received_at=T0)
    drain.deliveries_drain()
    delivery = AlertDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED
    assert "alerts: expected a list" in delivery.error
    drain.delivery_retry(delivery=delivery)
    assert AlertDelivery.objects.get().status == DeliveryStatus.PENDING


def test_replaying_the_events_rebuilds_the_incident_row(integration):
    record, _ = integration
    deliver(record, fixture_json("alertmanager/multiple.json"), T0)
    deliver(record, fixture_json("alertmanager/firing.json"), T0 + timedelta(seconds=30))
    incident = Incident.objects.get(dedup_key__contains="HighLatency")
    actions.incident_acknowledge(incident_id=incident.pk, user=None, at=T0 + timedelta(minutes=2))
    actions.incident_resolve(incident_id=incident.pk, user=None, at=T0 + timedelta(minutes=9))
    for row in Incident.objects.all():
        assert selectors.incident_replayed(row) == projection.state_of(row)


def test_a_claimed_delivery_is_processed_once_even_if_drained_again(integration):
    record, _ = integration
    store.delivery_accept(
        integration=record,
        body=json.dumps(fixture_json("alertmanager/firing.json")),
        received_at=T0,
    )
    token, batch = drain.deliveries_claim(limit=10)
    assert drain.deliveries_claim(limit=10)[1] == []  # nobody else gets it
    assert drain.delivery_process(delivery=batch[0], token=token) == "processed"
    assert drain.delivery_process(delivery=batch[0], token=token) == "lost"
    assert Incident.objects.get().events.count() == 2


def test_an_expired_claim_is_taken_over(integration, settings):
    record, _ = integration
    store.delivery_accept(
        integration=record,
        body=json.dumps(fixture_json("alertmanager/firing.json")),
        received_at=T0,
    )
    dead_token, _ = drain.deliveries_claim(limit=10, now=T0)
    later = T0 + timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS + 1)
    token, batch = drain.deliveries_claim(limit=10, now=later)
    assert token != dead_token and len(batch) == 1
    assert drain.deliveries_overdue(now=later + timedelta(seconds=1)) is False


def test_the_timeline_cannot_be_edited(integration):
    record, _ = integration
    deliver(record, fixture_json("alertmanager/firing.json"), T0)
    event = IncidentEvent.objects.first()
    event.kind = "resolved"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        IncidentEvent.objects.filter(pk=event.pk).update(kind="resolved")
    with pytest.raises(TypeError):
        IncidentEvent.objects.all().delete()
