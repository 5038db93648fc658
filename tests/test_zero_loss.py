"""Zero loss, proven: a storm of webhooks while the worker is SIGKILLed and restarted and the
web server is restarted. Every 2xx must be reflected exactly once."""

import json
import threading
import time

import pytest
import requests

from incidents import counters
from incidents.models import Alert, AlertDelivery, DeliveryStatus, Incident, IncidentEvent
from tests.support import am_alert, am_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STORM_SECONDS = 6.0
SENDERS = 4


class Storm:
    """Senders post distinct groups, and re-send each body once (a sender's retry)."""

    def __init__(self, servers, token):
        self.servers = servers  # a list: the current server may be swapped mid-storm
        self.token = token
        self.accepted: list[tuple[int, str]] = []  # (delivery id, group key)
        self.failed = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def sender(self, n: int) -> None:
        session = requests.Session()
        i = 0
        while not self.stop.is_set():
            key = f"storm-{n}-{i}"
            body = json.dumps(am_payload(am_alert(fingerprint=f"fp-{n}-{i}"), group_key=key))
            for _attempt in range(2):
                try:
                    response = session.post(
                        f"{self.servers[-1].url}/hooks/alertmanager/{self.token}",
                        data=body,
                        headers={"Content-Type": "application/json"},
                        timeout=5,
                    )
                except requests.RequestException:
                    with self.lock:
                        self.failed += 1
                    session = requests.Session()
                    continue
                if 200 <= response.status_code < 300:
                    with self.lock:
                        self.accepted.append((response.json()["delivery"], key))
                else:
                    with self.lock:
                        self.failed += 1
            i += 1


def test_nothing_accepted_is_lost_or_doubled_when_processes_die(
    integration, worker_env, make_worker, make_web
):
    _, token = integration
    worker_env["PAGERLINE_CLAIM_TIMEOUT_SECONDS"] = "5"
    worker_env["PAGERLINE_REDRIVE_AFTER_SECONDS"] = "1"
    worker_env["PAGERLINE_DRAIN_BATCH"] = "20"
    servers = [make_web("web-1")]
    worker = make_worker(name="worker-1")
    storm = Storm(servers, token)
    threads = [threading.Thread(target=storm.sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    started = time.monotonic()
    try:
        wait_for(lambda: time.monotonic() - started > 1.5, timeout=5)
        worker.kill()  # SIGKILL mid-batch: its claims must expire and be taken over
        wait_for(lambda: time.monotonic() - started > 2.5, timeout=5)
        make_worker("-B", name="worker-2")
        wait_for(lambda: time.monotonic() - started > 3.5, timeout=5)
        servers.append(make_web("web-2"))  # the new web process takes the traffic ...
        servers[0].stop()  # ... and the old one is restarted away
        wait_for(lambda: time.monotonic() - started > STORM_SECONDS, timeout=10)
    finally:
        storm.stop.set()
        for thread in threads:
            thread.join(timeout=10)

    accepted_ids = {delivery for delivery, _ in storm.accepted}
    keys = {key for _, key in storm.accepted}
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
