"""Email notifications through a real local SMTP server."""

from datetime import UTC, datetime

import pytest

from incidents.models import Notification
from incidents.notify import sending
from incidents.tests.notify_support import free_port, running_smtp_sink
from incidents.tests.paging_support import email_method, trigger

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def smtp_sink(settings):
    yield from running_smtp_sink(settings)


def queue(user, incident=None):
    (row,) = sending.users_notify(
        users=[user],
        reason="escalation",
        subject="[Pagerline] #1 Checkout is down",
        text="Incident needs you",
        at=T0,
        incident=incident,
    )[user.pk]
    return row


def test_it_sends_html_and_text_to_the_contact_address(service, users, smtp_sink):
    email_method(users["responder"], "r@example.com")
    incident = trigger(service, T0)
    row = queue(users["responder"], incident)
    assert sending.notification_send(notification_id=row.pk, now=T0) == "sent"

    (message,) = smtp_sink.messages
    assert message["To"] == "r@example.com"
    assert message["Subject"] == "[Pagerline] #1 Checkout is down"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"/incidents/{incident.pk}/" in text
    assert "Checkout is down" in html
    row.refresh_from_db()
    assert (row.status, row.endpoint) == ("sent", f"smtp:127.0.0.1:{smtp_sink.port}")
    assert row.duration_ms is not None


def test_a_refused_recipient_fails_for_good(users, smtp_sink):
    email_method(users["responder"], "gone@example.com")
    smtp_sink.refuse = "550 no such user"
    row = queue(users["responder"])
    assert sending.notification_send(notification_id=row.pk, now=T0) == "failed"
    row.refresh_from_db()
    assert "550" in row.error
    assert Notification.objects.count() == 1  # no retry for a permanent error


def test_a_temporary_refusal_is_retried(users, smtp_sink):
    email_method(users["responder"])
    smtp_sink.refuse = "451 try again later"
    row = queue(users["responder"])
    sending.notification_send(notification_id=row.pk, now=T0)
    retry = Notification.objects.get(status="pending")
    assert (retry.attempt, retry.retry_of_id) == (2, row.pk)


def test_an_smtp_server_that_is_down_is_a_transient_failure(users, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    email_method(users["responder"])
    row = queue(users["responder"])
    assert sending.notification_send(notification_id=row.pk, now=T0) == "failed"
    row.refresh_from_db()
    assert "ConnectionRefused" in row.error
    assert Notification.objects.filter(status="pending", attempt=2).exists()
