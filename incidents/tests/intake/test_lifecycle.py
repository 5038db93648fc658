"""Dedup and lifecycle rules of docs/alerts.md, one test each, through the real services."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.alerts import AlertEvent, AlertStatus, Severity
from incidents.intake import apply as intake_apply
from incidents.intake import heartbeats
from incidents.models import (
    Incident,
    IncidentEvent,
    IncidentStatus,
)
from incidents.tests.factories import make_integration, make_routing_rule, make_service
from incidents.tests.support import deliver
from tests.support import am_alert, am_payload

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def pd_event(status, key="disk-full-db1", **fields):
    return AlertEvent(
        source="pagerduty",
        incident_key=key,
        fingerprint=key,
        status=status,
        title="Disk full on db1",
        severity=Severity.CRITICAL,
        **fields,
    )


def apply(integration, alert_event, at):
    return intake_apply.alerts_apply(
        integration=integration, alert_events=[alert_event], received_at=at
    )


def kinds(incident):
    return [e.kind for e in incident.events.all()]


def test_routing_rules_send_alerts_to_the_matching_service(integration, team):
    record, _ = integration
    payments = make_service(team, "payments-api", "Payments API")
    make_routing_rule(
        record,
        position=0,
        service=payments,
        matchers=[{"label": "service", "op": "=", "value": "payments"}],
    )
    deliver(record, am_payload(am_alert("Slow", service="payments"), group_key="g1"), T0)
    deliver(record, am_payload(am_alert("Slow", service="search"), group_key="g2"), T0)
    routed = Incident.objects.get(dedup_key="g1")
    unrouted = Incident.objects.get(dedup_key="g2")
    assert routed.service == payments
    assert "unrouted" not in kinds(routed)
    assert unrouted.service == record.service
    assert "unrouted" in kinds(unrouted)


def test_one_alert_group_can_split_across_services(integration, team):
    record, _ = integration
    payments = make_service(team, "payments-api", "Payments API")
    make_routing_rule(
        record,
        service=payments,
        matchers=[{"label": "service", "op": "=~", "value": "pay.*"}],
    )
    payload = am_payload(
        am_alert("Slow", fingerprint="a", service="payments"),
        am_alert("Slow", fingerprint="b", service="checkout"),
        group_key="g",
    )
    deliver(record, payload, T0)
    assert sorted(Incident.objects.values_list("service__slug", flat=True)) == [
        "checkout",
        "payments-api",
    ]


def test_without_a_reopen_window_a_new_firing_opens_a_new_incident(integration):
    record, _ = integration
    deliver(record, am_payload(am_alert()), T0)
    deliver(record, am_payload(am_alert(status="resolved")), T0 + timedelta(minutes=1))
    deliver(record, am_payload(am_alert()), T0 + timedelta(minutes=2))
    assert Incident.objects.count() == 2


def test_a_reopen_window_reopens_the_resolved_incident(integration):
    record, _ = integration
    record.reopen_window_seconds = 300
    record.save()
    deliver(record, am_payload(am_alert()), T0)
    deliver(record, am_payload(am_alert(status="resolved")), T0 + timedelta(minutes=1))
    deliver(record, am_payload(am_alert()), T0 + timedelta(minutes=3))
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.resolved_at is None
    assert kinds(incident)[-2:] == ["reopened", "alert_fired"]
    # Outside the window: a new incident.
    deliver(record, am_payload(am_alert(status="resolved")), T0 + timedelta(minutes=4))
    deliver(record, am_payload(am_alert()), T0 + timedelta(minutes=10))
    assert Incident.objects.count() == 2


def test_the_same_body_delivered_twice_changes_nothing(integration):
    record, _ = integration
    payload = am_payload(am_alert())
    deliver(record, payload, T0)
    before = list(IncidentEvent.objects.values_list("kind", flat=True))
    deliver(record, payload, T0 + timedelta(seconds=5))
    assert list(IncidentEvent.objects.values_list("kind", flat=True)) == before
    assert Incident.objects.count() == 1


def test_a_source_acknowledge_acknowledges_once(integration):
    record, _ = integration
    apply(record, pd_event(AlertStatus.FIRING), T0)
    apply(record, pd_event(AlertStatus.ACKNOWLEDGED), T0 + timedelta(minutes=2))
    apply(record, pd_event(AlertStatus.ACKNOWLEDGED), T0 + timedelta(minutes=3))
    incident = Incident.objects.get()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_at == T0 + timedelta(minutes=2)
    assert kinds(incident).count("acknowledged") == 1
    apply(record, pd_event(AlertStatus.RESOLVED), T0 + timedelta(minutes=9))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_actions_for_unknown_or_closed_keys_are_recorded_and_ignored(integration):
    record, _ = integration
    notes = apply(record, pd_event(AlertStatus.RESOLVED, key="never-seen"), T0)
    assert notes == ["resolve for unknown key 'never-seen' ignored: no incident"]
    apply(record, pd_event(AlertStatus.FIRING), T0)
    apply(record, pd_event(AlertStatus.RESOLVED), T0 + timedelta(minutes=1))
    notes = apply(record, pd_event(AlertStatus.ACKNOWLEDGED), T0 + timedelta(minutes=2))
    incident = Incident.objects.get()
    assert notes == [
        f"acknowledge for key 'disk-full-db1' ignored: incident #{incident.pk} is resolved"
    ]
    assert kinds(incident)[-1] == "source_action_ignored"
    assert incident.status == IncidentStatus.RESOLVED


def test_the_note_is_kept_on_the_delivery(integration):
    record, _ = integration
    delivery = deliver(record, am_payload(am_alert(status="resolved"), group_key="gone"), T0)
    delivery.refresh_from_db()
    assert delivery.status == "processed"
    assert "resolve for unknown key 'gone' ignored" in delivery.note


def test_flapping_is_visible_on_the_timeline(integration):
    record, _ = integration
    other = am_alert(fingerprint="steady", instance="two")
    for minute in range(0, 8, 2):
        deliver(record, am_payload(am_alert(), other), T0 + timedelta(minutes=minute))
        deliver(
            record,
            am_payload(am_alert(status="resolved"), other),
            T0 + timedelta(minutes=minute + 1),
        )
    incident = Incident.objects.get()
    refires = incident.events.filter(kind="alert_fired", data__refire=True)
    assert [e.data["fire_count"] for e in refires] == [2, 3, 4]
    assert [e.data["flapping"] for e in refires] == [False, True, True]
    assert incident.alerts.get(fingerprint="fp-higherrorrate").fire_count == 4


def test_a_start_time_in_the_future_is_clamped_and_flagged(integration):
    record, _ = integration
    future = (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    deliver(record, am_payload(am_alert(starts_at=future)), T0)
    incident = Incident.objects.get()
    assert incident.impact_started_at == T0
    assert incident.alerts.get().starts_at == T0
    skew = incident.events.get(kind="clock_skew")
    assert skew.data["reported_starts_at"] == (T0 + timedelta(hours=2)).isoformat()


def test_two_groups_with_the_same_key_on_two_services_are_separate(integration, team):
    record, _ = integration
    other_service = make_service(team, "search", "Search")
    other, _ = make_integration(other_service)
    deliver(record, am_payload(am_alert(), group_key="same"), T0)
    deliver(other, am_payload(am_alert(), group_key="same"), T0)
    assert Incident.objects.filter(dedup_key="same").count() == 2


def test_the_database_refuses_a_second_open_incident_for_a_key(integration):
    from django.db import IntegrityError, transaction

    from incidents.timeline import events

    record, _ = integration
    deliver(record, am_payload(am_alert(), group_key="k"), T0)
    with pytest.raises(IntegrityError), transaction.atomic():
        events.incident_triggered(
            service=record.service,
            dedup_key="k",
            title="dup",
            severity="critical",
            at=T0,
            source="test",
        )


# --- heartbeats ---------------------------------------------------------------------------


def test_a_missed_heartbeat_opens_an_incident_that_resolves_when_it_resumes(integration):
    record, _ = integration
    record.heartbeat_interval_seconds = 300
    record.save()
    deliver(record, am_payload(am_alert("Watchdog", severity="none"), group_key="wd"), T0)
    assert Incident.objects.count() == 0  # heartbeats never open incidents of their own
    assert heartbeats.heartbeats_check(now=T0 + timedelta(minutes=4)) == 0
    assert heartbeats.heartbeats_check(now=T0 + timedelta(minutes=6)) == 1
    incident = Incident.objects.get()
    assert incident.title.startswith(f"No heartbeat from {record.name} since 2026-11-26 10:00:00")
    assert incident.impact_started_at == T0 + timedelta(minutes=5)
    assert incident.detected_at == T0 + timedelta(minutes=6)
    assert heartbeats.heartbeats_check(now=T0 + timedelta(minutes=7)) == 0  # still one incident
    deliver(
        record,
        am_payload(am_alert("Watchdog", severity="none"), group_key="wd"),
        T0 + timedelta(minutes=8),
    )
    assert heartbeats.heartbeats_check(now=T0 + timedelta(minutes=9)) == 1
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at == T0 + timedelta(minutes=9)


def test_integrations_without_a_heartbeat_are_not_watched(integration):
    assert heartbeats.heartbeats_check(now=T0 + timedelta(days=30)) == 0
