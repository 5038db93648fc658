"""A worker whose batch fails on a lost database connection (a restart, a failover) hands its
claim back as soon as the database answers again, instead of leaving the deliveries
"processing" until PAGERLINE_CLAIM_TIMEOUT_SECONDS; and it never hands back a claim that is
no longer its own. Real PostgreSQL: the worker's backend is terminated, and "down" is a
port nobody listens on."""

import json
import logging
import threading
import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from incidents.intake import drain, store
from incidents.models import AlertDelivery, DeliveryStatus, Incident
from tests.peers import free_port
from tests.support import am_alert, am_payload, other_connection

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a backend"),
    pytest.mark.django_db(transaction=True),
]


def _accept(integration, count: int) -> None:
    record, _ = integration
    for n in range(count):
        body = am_payload(am_alert(fingerprint=f"fp-{n}"), group_key=f"group-{n}")
        store.delivery_accept(integration=record, body=json.dumps(body), received_at=timezone.now())


def _drop_connection() -> None:
    """What a server restart does to the worker's open connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)


def _statuses() -> dict[str, int]:
    result: dict[str, int] = {}
    for status in AlertDelivery.objects.values_list("status", flat=True):
        result[status] = result.get(status, 0) + 1
    return result


def test_a_batch_that_lost_its_connection_is_handed_back_at_once(integration, caplog):
    _accept(integration, 5)
    token, batch = drain.deliveries_claim(limit=10)
    _drop_connection()

    with (
        caplog.at_level(logging.WARNING, logger="incidents.intake.drain"),
        pytest.raises(DatabaseError),
    ):
        drain.deliveries_process(batch=batch, token=token)

    assert "handed back 5 of 5 claimed deliveries" in caplog.text
    assert _statuses() == {DeliveryStatus.PENDING: 5}  # not "processing" for a minute
    assert not AlertDelivery.objects.exclude(claim_token="").exists()
    assert drain.deliveries_drain() == 5  # the next drain takes them at once
    assert _statuses() == {DeliveryStatus.PROCESSED: 5}
    assert Incident.objects.count() == 5


def test_it_waits_for_the_database_to_come_back_then_hands_back(integration, caplog):
    _accept(integration, 3)
    token, batch = drain.deliveries_claim(limit=10)
    port = connection.settings_dict["PORT"]
    back = threading.Timer(1.5, connection.settings_dict.__setitem__, args=("PORT", port))
    _drop_connection()
    connection.settings_dict["PORT"] = str(free_port())  # the server is down: refused ...
    back.start()  # ... and answers again 1.5 s later
    try:
        started = time.monotonic()
        with (
            caplog.at_level(logging.WARNING, logger="incidents.intake.drain"),
            pytest.raises(DatabaseError),
        ):
            drain.deliveries_process(batch=batch, token=token)
        waited = time.monotonic() - started
    finally:
        back.cancel()
        connection.settings_dict["PORT"] = port

    assert 1.5 <= waited < 5, waited  # handed back once the database answered, not later
    assert "handed back 3 of 3 claimed deliveries" in caplog.text
    assert _statuses() == {DeliveryStatus.PENDING: 3}


def test_a_claim_taken_over_by_another_worker_is_not_handed_back(integration, settings):
    _accept(integration, 2)
    long_ago = timezone.now() - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS + 5)
    dead_token, dead_batch = drain.deliveries_claim(limit=10, now=long_ago)
    token, batch = drain.deliveries_claim(limit=10)  # the expired claim is taken over
    assert len(batch) == 2

    # The first worker's batch fails late; its give-back must not undo the second's claim.
    drain._deliveries_release(ids=[d.pk for d in dead_batch], token=dead_token, claimed_at=None)

    assert set(AlertDelivery.objects.values_list("claim_token", flat=True)) == {token}
    assert drain.deliveries_process(batch=batch, token=token) == ["processed"] * 2
    drain._deliveries_release(ids=[d.pk for d in batch], token=token, claimed_at=None)
    assert _statuses() == {DeliveryStatus.PROCESSED: 2}  # a committed batch stays processed
    assert Incident.objects.count() == 2


def test_it_gives_up_when_the_claim_would_have_expired_anyway(integration, settings, caplog):
    _accept(integration, 1)
    token, batch = drain.deliveries_claim(limit=10)
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # down, and not coming back
    almost_expired = timezone.now() - timedelta(seconds=settings.PAGERLINE_CLAIM_TIMEOUT_SECONDS)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="incidents.intake.drain"):
            released = drain._deliveries_release(
                ids=[batch[0].pk], token=token, claimed_at=almost_expired + timedelta(seconds=1)
            )
        waited = time.monotonic() - started
    finally:
        connection.settings_dict["PORT"] = port
    assert released is False
    assert waited < 3, waited
    assert "their claim expires at" in caplog.text
    assert _statuses() == {DeliveryStatus.PROCESSING: 1}  # the claim timeout takes over
