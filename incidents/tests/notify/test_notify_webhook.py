"""Webhook notifications to a real local HTTP server: signature, errors, retries, breaker."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import CircuitBreaker, ContactMethod, Notification
from incidents.notify import sending
from incidents.tests.notify_support import allow_loopback, free_port, running_receiver
from incidents.tests.paging_support import trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def receiver(settings):
    allow_loopback(settings)
    yield from running_receiver()


def hook(user, url):
    return ContactMethod.objects.create(
        verified_at=timezone.now(), user=user, kind="webhook", address=url
    )


def queue(user, incident=None, at=T0):
    (row,) = sending.users_notify(
        users=[user],
        reason="escalation",
        subject="s",
        text="Checkout needs you",
        at=at,
        incident=incident,
    )[user.pk]
    return row


def send(row, now=T0):
    return sending.notification_send(notification_id=row.pk, now=now)


def test_it_posts_signed_slack_compatible_json(service, users, receiver):
    method = hook(users["responder"], receiver.url)
    incident = trigger(service, T0)
    assert send(queue(users["responder"], incident)) == "sent"

    (request,) = receiver.requests
    body = request["body"]
    expected = hmac.new(method.secret.encode(), body, hashlib.sha256).hexdigest()
    assert request["headers"]["X-Pagerline-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["text"].startswith("Checkout needs you")
    assert payload["incident"]["id"] == incident.pk
    assert payload["incident"]["url"].endswith(f"/incidents/{incident.pk}/")


def test_a_5xx_is_retried_with_exponential_backoff(users, receiver, settings):
    settings.PAGERLINE_NOTIFY_BACKOFF_SECONDS = 30
    settings.PAGERLINE_NOTIFY_MAX_ATTEMPTS = 3
    hook(users["responder"], receiver.url)
    receiver.default = 503
    row, now = queue(users["responder"]), T0
    for _ in range(3):
        assert send(row, now) == "failed"
        row = Notification.objects.filter(status="pending").first() or row
        now = row.next_attempt_at
    attempts = list(Notification.objects.order_by("attempt").values_list("attempt", "status"))
    assert attempts == [(1, "failed"), (2, "failed"), (3, "failed")]
    waits = [
        (b.next_attempt_at - a.finished_at).total_seconds()
        for a, b in zip(
            Notification.objects.order_by("attempt")[:2],
            Notification.objects.order_by("attempt")[1:],
            strict=True,
        )
    ]
    assert waits == [30, 60]
    assert "HTTP 503" in Notification.objects.last().error


def test_a_4xx_is_not_retried(users, receiver):
    hook(users["responder"], receiver.url)
    receiver.default = 400
    assert send(queue(users["responder"])) == "failed"
    assert Notification.objects.count() == 1
    assert "HTTP 400" in Notification.objects.get().error


def test_a_timeout_is_transient(users, receiver, settings):
    settings.PAGERLINE_WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.hang_seconds = 1.0
    hook(users["responder"], receiver.url)
    receiver.replies = ["hang"]
    assert send(queue(users["responder"])) == "failed"
    assert "no answer within 0.3 s" in Notification.objects.get(attempt=1).error
    assert Notification.objects.filter(status="pending", attempt=2).exists()


def test_a_refused_connection_is_transient(users, settings):
    allow_loopback(settings)
    hook(users["responder"], f"http://127.0.0.1:{free_port()}/hook")
    assert send(queue(users["responder"])) == "failed"
    assert Notification.objects.filter(status="pending", attempt=2).exists()


def test_sending_twice_makes_one_attempt(users, receiver):
    hook(users["responder"], receiver.url)
    row = queue(users["responder"])
    assert send(row) == "sent"
    assert send(row) == "not_claimed"
    assert len(receiver.requests) == 1


def test_a_row_is_not_sent_before_its_time(users, receiver):
    hook(users["responder"], receiver.url)
    row = queue(users["responder"], at=T0 + timedelta(minutes=5))
    assert send(row, T0) == "not_claimed"
    assert receiver.requests == []


def test_the_breaker_opens_skips_without_losing_and_retries_when_it_closes(
    users, receiver, settings
):
    settings.PAGERLINE_BREAKER_THRESHOLD = 2
    settings.PAGERLINE_BREAKER_COOLDOWN_SECONDS = 60
    settings.PAGERLINE_NOTIFY_BACKOFF_SECONDS = 300
    hook(users["responder"], receiver.url)
    hook(users["manager"], receiver.url)
    receiver.default = 500
    send(queue(users["responder"]))
    send(queue(users["manager"]))
    assert CircuitBreaker.objects.get().state == "open"

    # While open, a new page is not attempted: recorded as skipped, and a retry waits.
    viewer_hook = hook(users["viewer"], receiver.url)
    assert send(queue(users["viewer"]), T0 + timedelta(seconds=10)) == "skipped"
    assert len(receiver.requests) == 2
    waiting = Notification.objects.get(contact_method=viewer_hook, status="pending")
    assert waiting.next_attempt_at == T0 + timedelta(seconds=60)

    # After the cool-down one probe goes through; its success closes the breaker and
    # releases everything that was held back.
    receiver.default = 200
    probe_at = T0 + timedelta(seconds=60)
    assert send(waiting, probe_at) == "sent"
    assert CircuitBreaker.objects.get().state == "closed"
    released = Notification.objects.filter(status="pending")
    assert released.count() == 2  # the two 500 retries, no longer waiting 300 s
    assert {n.next_attempt_at for n in released} == {probe_at}
    for row in released:
        assert send(row, probe_at) == "sent"
    assert Notification.objects.filter(status="sent").count() == 3


def test_a_disabled_contact_method_is_skipped(users, receiver):
    method = hook(users["responder"], receiver.url)
    row = queue(users["responder"])
    ContactMethod.objects.filter(pk=method.pk).update(enabled=False)
    assert send(row) == "skipped"
    assert receiver.requests == []


def test_the_redrive_fails_and_retries_a_row_whose_worker_died(users, receiver, settings):
    settings.PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS = 120
    hook(users["responder"], receiver.url)
    row = queue(users["responder"])
    Notification.objects.filter(pk=row.pk).update(status="sending", claimed_at=T0)
    sending.notifications_redrive(now=T0 + timedelta(seconds=121))
    row.refresh_from_db()
    assert (row.status, row.error) == ("failed", "worker lost")
    retry = Notification.objects.get(status="pending")
    assert send(retry, T0 + timedelta(seconds=121)) == "sent"


def test_a_page_waiting_for_a_retry_is_dropped_once_someone_acknowledges(service, users, receiver):
    from incidents.timeline import actions

    hook(users["responder"], receiver.url)
    incident = trigger(service, T0)
    row = queue(users["responder"], incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"], at=T0)
    assert send(row) == "skipped"
    assert receiver.requests == []
    row.refresh_from_db()
    assert row.error == "incident is acknowledged"
