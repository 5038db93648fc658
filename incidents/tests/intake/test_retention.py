"""Retention of the delivery inbox: raw webhook bodies go after N days, in batches;
what they produced (incidents, alerts, timelines) and what still needs someone stays."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from config.celery import app
from core.models import AuditEntry
from incidents import task_names, tasks
from incidents.intake import drain, retention, store
from incidents.models import Alert, AlertDelivery, DeliveryStatus, Incident, IncidentEvent
from incidents.tests.factories import make_delivery
from incidents.tests.support import deliver
from tests.support import am_alert, am_payload

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
OLD = NOW - timedelta(days=31)
RECENT = NOW - timedelta(days=29)


def _statuses() -> dict[int, str]:
    return dict(AlertDelivery.objects.values_list("pk", "status"))


def _failed(record, at) -> AlertDelivery:
    store.delivery_accept(integration=record, body='{"alerts": 3}', received_at=at)
    drain.deliveries_drain()
    return AlertDelivery.objects.get(status=DeliveryStatus.FAILED)


def test_it_removes_old_processed_deliveries_and_keeps_recent_and_unfinished_ones(integration):
    record, _ = integration
    old = deliver(record, am_payload(am_alert(fingerprint="old")), OLD)
    recent = deliver(record, am_payload(am_alert(fingerprint="new")), RECENT)
    pending = make_delivery(record, received_at=OLD, status=DeliveryStatus.PENDING)
    processing = make_delivery(record, received_at=OLD, status=DeliveryStatus.PROCESSING)
    result = retention.deliveries_purge(now=NOW, days=30)
    assert result.deleted == 1 and result.finished
    assert set(_statuses()) == {recent.pk, pending.pk, processing.pk}
    assert old.pk not in _statuses()


def test_it_never_touches_incidents_alerts_or_timelines(integration):
    record, _ = integration
    for n in range(3):
        deliver(record, am_payload(am_alert(fingerprint=f"f{n}", instance=f"i{n}")), OLD)
    counts = (Incident.objects.count(), Alert.objects.count(), IncidentEvent.objects.count())
    assert counts[0] >= 1 and counts[1] == 3 and counts[2] >= 4
    assert retention.deliveries_purge(now=NOW, days=30).deleted == 3
    assert AlertDelivery.objects.count() == 0
    assert (Incident.objects.count(), Alert.objects.count(), IncidentEvent.objects.count()) == (
        counts
    )


def test_a_failed_delivery_stays_until_dismissed_and_then_n_days(integration, users):
    record, _ = integration
    failed = _failed(record, NOW - timedelta(days=400))
    assert retention.deliveries_purge(now=NOW, days=30).deleted == 0
    assert retention.delivery_dismiss(delivery=failed, actor=users["manager"])
    dismissed = AlertDelivery.objects.get(pk=failed.pk)
    assert dismissed.status == DeliveryStatus.DISMISSED and dismissed.settled_at is not None
    # Counted from the dismissal, not from the receipt a year ago.
    later = dismissed.settled_at + timedelta(days=29)
    assert retention.deliveries_purge(now=later, days=30).deleted == 0
    later = dismissed.settled_at + timedelta(days=31)
    assert retention.deliveries_purge(now=later, days=30).deleted == 1
    assert not AlertDelivery.objects.exists()


def test_a_retried_delivery_is_kept_n_days_from_its_retry(integration):
    record, _ = integration
    failed = _failed(record, NOW - timedelta(days=400))
    fixed = json.dumps(am_payload(am_alert(fingerprint="fixed")))
    AlertDelivery.objects.filter(pk=failed.pk).update(body=fixed)  # the fix: now it parses
    drain.delivery_retry(delivery=failed)
    drain.deliveries_drain()
    retried = AlertDelivery.objects.get(pk=failed.pk)
    assert retried.status == DeliveryStatus.PROCESSED
    assert retention.deliveries_purge(now=retried.settled_at + timedelta(days=29), days=30) == (
        retention.PurgeResult(0, 0, True)
    )
    assert retention.deliveries_purge(now=retried.settled_at + timedelta(days=31)).deleted == 1


def test_dismissing_a_delivery_that_is_no_longer_failed_does_nothing(integration, users):
    record, _ = integration
    failed = _failed(record, OLD)
    drain.delivery_retry(delivery=failed)
    assert not retention.delivery_dismiss(delivery=failed, actor=users["manager"])
    assert AlertDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.PENDING
    assert not AuditEntry.objects.filter(action="delivery.dismissed").exists()


def test_it_deletes_in_batches_and_is_idempotent(integration, settings):
    record, _ = integration
    settings.PAGERLINE_DELIVERY_PURGE_BATCH = 2
    kept = make_delivery(record, received_at=OLD, status=DeliveryStatus.FAILED)
    for _ in range(5):
        make_delivery(record, received_at=OLD, status=DeliveryStatus.PROCESSED)
    result = retention.deliveries_purge(now=NOW)
    assert (result.deleted, result.batches, result.finished) == (5, 3, True)
    assert list(_statuses()) == [kept.pk]
    assert retention.deliveries_purge(now=NOW) == retention.PurgeResult(0, 0, True)


def test_it_stops_when_its_time_budget_is_spent_and_the_next_run_goes_on(integration):
    record, _ = integration
    for _ in range(5):
        make_delivery(record, received_at=OLD, status=DeliveryStatus.PROCESSED)
    first = retention.deliveries_purge(now=NOW, batch_size=2, max_seconds=0)
    assert (first.deleted, first.batches, first.finished) == (2, 1, False)
    second = retention.deliveries_purge(now=NOW, batch_size=2, max_seconds=60)
    assert (second.deleted, second.finished) == (3, True)


def test_the_beat_task_purges_with_the_settings(integration, settings):
    record, _ = integration
    settings.PAGERLINE_DELIVERY_RETENTION_DAYS = 7
    gone = make_delivery(
        record, received_at=datetime.now(UTC) - timedelta(days=8), status="processed"
    )
    kept = make_delivery(
        record, received_at=datetime.now(UTC) - timedelta(days=6), status="processed"
    )
    assert tasks.purge_deliveries() == 1
    assert list(_statuses()) == [kept.pk] and gone.pk != kept.pk


def test_the_beat_schedule_runs_the_purge():
    entries = [entry["task"] for entry in app.conf.beat_schedule.values()]
    assert task_names.PURGE_DELIVERIES in entries


def test_managers_dismiss_a_failed_delivery_and_it_is_audited(client, users, integration):
    record, _ = integration
    failed = _failed(record, OLD)
    client.force_login(users["manager"])
    page = client.get("/deliveries/failed/").content.decode()
    assert "Dismiss" in page
    response = client.post(f"/deliveries/{failed.pk}/dismiss", follow=True)
    assert "dismissed; its body is removed in 30 days" in response.content.decode()
    assert "alerts: expected a list" not in response.content.decode()
    assert AlertDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.DISMISSED
    entry = AuditEntry.objects.get(action="delivery.dismissed")
    assert entry.actor == users["manager"] and entry.object_id == str(failed.pk)


def test_viewers_and_outsiders_cannot_dismiss(client, users, integration):
    record, _ = integration
    failed = _failed(record, OLD)
    client.force_login(users["viewer"])
    assert "Dismiss" not in client.get("/deliveries/failed/").content.decode()
    assert client.post(f"/deliveries/{failed.pk}/dismiss").status_code == 403
    client.force_login(users["outsider"])
    assert client.post(f"/deliveries/{failed.pk}/dismiss").status_code == 404
    assert AlertDelivery.objects.get(pk=failed.pk).status == DeliveryStatus.FAILED


@pytest.mark.parametrize("value", ["thirty", "0"])
def test_a_bad_retention_setting_stops_start_up(value):
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "PAGERLINE_DELIVERY_RETENTION_DAYS": value,
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "PAGERLINE_DELIVERY_RETENTION_DAYS" in result.stderr


def test_rows_stored_out_of_receipt_order_are_all_removed(integration):
    """Ids and receipt times need not agree: a web process stamps received_at, then its insert
    takes an id, so a later id can carry an earlier time, and several rows share a time."""
    record, _ = integration
    same = OLD - timedelta(minutes=1)
    first = make_delivery(record, received_at=same, status=DeliveryStatus.PROCESSED)
    second = make_delivery(record, received_at=same, status=DeliveryStatus.PROCESSED)
    late_id = make_delivery(record, received_at=same - timedelta(seconds=3), status="processed")
    kept = make_delivery(record, received_at=RECENT, status=DeliveryStatus.PROCESSED)
    assert first.pk < second.pk < late_id.pk < kept.pk
    result = retention.deliveries_purge(now=NOW, days=30)
    assert result.deleted == 3 and result.finished
    assert set(_statuses()) == {kept.pk}
