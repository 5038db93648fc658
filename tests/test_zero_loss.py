"""Zero loss, proven: a storm of webhooks while the worker is SIGKILLed and restarted and the
web server is restarted. Every 2xx must be reflected exactly once."""

import json
import time

import pytest

from incidents import counters
from incidents.models import Alert, AlertDelivery, DeliveryStatus, Incident, IncidentEvent
from tests.storm import Storm
from tests.support import am_alert, am_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STORM_SECONDS = 6.0
SENDERS = 4


def test_nothing_accepted_is_lost_or_doubled_when_processes_die(
    integration, worker_env, make_worker, make_web
):
    _, token = integration
    worker_env["PAGERLINE_CLAIM_TIMEOUT_SECONDS"] = "5"
    worker_env["PAGERLINE_REDRIVE_AFTER_SECONDS"] = "1"
    worker_env["PAGERLINE_DRAIN_BATCH"] = "20"
    servers = [make_web("web-1")]
    worker = make_worker(name="worker-1")
    # Each body is sent twice (a sender's retry), to whichever web process is current.
    storm = Storm(lambda: f"{servers[-1].url}/hooks/alertmanager/{token}", attempts=2, resend=True)
    with storm.running(SENDERS):
        started = time.monotonic()
        wait_for(lambda: time.monotonic() - started > 1.5, timeout=5)
        worker.kill()  # SIGKILL mid-batch: its claims must expire and be taken over
        wait_for(lambda: time.monotonic() - started > 2.5, timeout=5)
        make_worker("-B", name="worker-2")
        wait_for(lambda: time.monotonic() - started > 3.5, timeout=5)
        servers.append(make_web("web-2"))  # the new web process takes the traffic ...
        servers[0].stop()  # ... and the old one is restarted away
        wait_for(lambda: time.monotonic() - started > STORM_SECONDS, timeout=10)

    accepted_ids, keys = storm.delivery_ids(), storm.keys()
    assert len(accepted_ids) > 100, (
        f"the storm was too small to prove anything: {len(accepted_ids)}"
    )
    wait_for(
        lambda: not AlertDelivery.objects.exclude(status=DeliveryStatus.PROCESSED).exists(),
        timeout=60,
        interval=0.5,
        message="deliveries left unprocessed after the storm",
    )
    stored = set(AlertDelivery.objects.values_list("id", flat=True))
    assert accepted_ids <= stored, "a delivery that got a 2xx is missing"
    assert AlertDelivery.objects.filter(status=DeliveryStatus.FAILED).count() == 0
    # Exactly once: one incident per accepted key, one alert each, no doubled events.
    assert set(Incident.objects.values_list("dedup_key", flat=True)) == keys
    assert Incident.objects.count() == len(keys)
    assert Alert.objects.count() == len(keys)
    assert IncidentEvent.objects.filter(kind="alert_fired").count() == len(keys)
    assert IncidentEvent.objects.filter(kind="triggered").count() == len(keys)
    # /metrics' durable counters: each stored delivery counted once, killed batch or not.
    totals = counters.counters_read()
    assert totals[(counters.DELIVERIES_RECEIVED, "alertmanager")] == len(stored)
    assert totals[(counters.INGEST_LATENCY_COUNT, "")] == len(stored)
    print(
        f"\naccepted {len(accepted_ids)} deliveries for {len(keys)} keys, "
        f"{storm.failed} requests refused during restarts"
    )


def test_webhooks_are_accepted_while_the_broker_is_down_and_processed_after(
    client, integration, make_worker
):
    from config.celery import app

    _, token = integration
    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        response = client.post(
            f"/hooks/alertmanager/{token}",
            json.dumps(am_payload(am_alert())),
            content_type="application/json",
        )
    finally:
        app.conf.broker_url = original
    assert response.status_code == 202
    assert AlertDelivery.objects.get().status == DeliveryStatus.PENDING
    make_worker("-B")  # the broker is back; beat re-drives what the lost kick would have
    wait_for(lambda: Incident.objects.exists(), timeout=30, message="delivery stranded")
