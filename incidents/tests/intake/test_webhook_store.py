"""How a webhook is stored: one statement authenticates and inserts, no health-check round
trip, and a connection the database server dropped is reopened instead of answering 5xx."""

import json
import logging
import time

import pytest
from django.db import OperationalError, close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from incidents.intake import store
from incidents.models import AlertDelivery, DeliveryStatus
from incidents.tests.factories import make_integration
from tests.support import fixture_json, other_connection, post_json

ALERTMANAGER = json.dumps(fixture_json("alertmanager/firing.json"))
PAGERDUTY = fixture_json("pagerduty/trigger.json")
GENERIC = json.dumps({"title": "Disk full", "dedup_key": "db-1/disk"})


def _requests(source, token):
    """Where and what each kind of sender posts."""
    if source == "pagerduty":
        return "/v2/enqueue", json.dumps({**PAGERDUTY, "routing_key": token})
    body = GENERIC if source == "generic" else ALERTMANAGER
    return f"/hooks/{source}/{token}", body


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["alertmanager", "pagerduty"])
def test_it_authenticates_and_stores_in_one_statement(hook_client, service, source):
    _, token = make_integration(service, source=source)
    url, body = _requests(source, token)
    with CaptureQueriesContext(connection) as queries:
        response = post_json(hook_client, url, body)
    assert response.status_code == 202
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert queries[0]["sql"].startswith("INSERT INTO")
    delivery = AlertDelivery.objects.get()
    assert delivery.integration.source == source
    assert delivery.status == DeliveryStatus.PENDING
    assert (delivery.attempts, delivery.claim_token, delivery.error, delivery.note) == (
        (0, "", "", "")
    )
    assert delivery.claimed_at is None
    assert delivery.processed_at is None
    if source == "alertmanager":
        assert response.json() == {"status": "accepted", "delivery": delivery.pk}
        assert delivery.body == body


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["alertmanager", "pagerduty", "generic"])
def test_it_refuses_a_disabled_integration_and_stores_nothing(hook_client, service, source):
    integration, token = make_integration(service, source=source)
    integration.enabled = False
    integration.save(update_fields=["enabled"])
    url, body = _requests(source, token)
    response = post_json(hook_client, url, body)
    assert response.status_code == (400 if source == "pagerduty" else 404)
    assert AlertDelivery.objects.count() == 0


@pytest.mark.django_db
def test_an_invalid_body_with_an_unknown_token_is_refused_as_invalid(hook_client, integration):
    response = post_json(hook_client, "/hooks/alertmanager/wrong-token", json.dumps({"alerts": 3}))
    assert response.status_code == 400
    assert AlertDelivery.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="terminates a PostgreSQL backend")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("source", ["alertmanager", "pagerduty", "generic"])
def test_it_reconnects_when_the_server_dropped_the_connection(hook_client, service, source, caplog):
    _, token = make_integration(service, source=source)
    url, body = _requests(source, token)
    assert post_json(hook_client, url, body).status_code == 202
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with other_connection() as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone() == (True,)
    # A connection neither flagged by an error nor past its CONN_MAX_AGE, as a server's is
    # between requests: in a long run this test's connection may be older than its maximum
    # age (or flagged by an earlier test), and would be replaced here without being used, so
    # the reconnect under test would never happen.
    connection.errors_occurred = False
    connection.close_at = None
    close_old_connections()  # what the server does when the next request starts

    with caplog.at_level(logging.WARNING, logger="incidents.intake.drain"):
        response = post_json(hook_client, url, body)
    assert response.status_code == 202
    assert "reconnecting" in caplog.text  # the old connection was really used and found dead
    assert AlertDelivery.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_failure_on_a_working_connection_is_not_retried(hook_client, integration, monkeypatch):

    attempts = []

    def fails(**kwargs):
        attempts.append(kwargs)
        raise OperationalError("canceling statement due to lock timeout")

    monkeypatch.setattr(store, "_insert_for_token", fails)
    _, token = integration
    response = post_json(hook_client, f"/hooks/alertmanager/{token}", ALERTMANAGER)
    assert response.status_code == 503
    assert len(attempts) == 1


def test_kicks_are_coalesced_and_always_follow_the_last_request(monkeypatch):
    from incidents.intake import kick

    kicks = []
    monkeypatch.setattr(kick, "deliveries_kick", lambda: kicks.append(time.monotonic()))
    asked = time.monotonic()
    for _ in range(200):  # a burst of accepted webhooks
        kick.deliveries_kick_soon()
    _wait_until(lambda: kicks)
    time.sleep(3 * kick._KICK_COALESCE_SECONDS)
    assert 1 <= len(kicks) <= 10  # one or two for the burst, unless the machine stalls
    assert kicks[-1] >= asked

    asked = time.monotonic()
    kick.deliveries_kick_soon()  # a request after the kick gets a kick of its own
    _wait_until(lambda: kicks[-1] >= asked)


def _wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "no kick"
        time.sleep(0.005)
