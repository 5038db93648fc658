"""Email notifications through a real local SMTP server."""

from datetime import UTC, datetime

import pytest

from incidents.models import Notification
from incidents.notify import sending
from incidents.tests.factories import make_alert_incident, make_contact_method, make_page
from tests.peers import free_port, send_email_to

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


PAGE = {"subject": "[Pagerline] #1 Checkout is down", "text": "Incident needs you", "at": T0}


def test_it_sends_html_and_text_to_the_contact_address(service, users, smtp):
    make_contact_method(users["responder"], address="r@example.com")
    incident = make_alert_incident(service, T0)
    row = make_page(users["responder"], incident=incident, **PAGE)
    assert sending.notification_send(notification_id=row.pk, now=T0) == "sent"

    (message,) = smtp.messages
    assert message["To"] == "r@example.com"
    assert message["Subject"] == "[Pagerline] #1 Checkout is down"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"/incidents/{incident.pk}/" in text
    assert "Checkout is down" in html
    row.refresh_from_db()
    assert (row.status, row.endpoint) == ("sent", f"smtp:127.0.0.1:{smtp.port}")
    assert row.duration_ms is not None


def test_a_refused_recipient_fails_for_good(users, smtp):
    make_contact_method(users["responder"], address="gone@example.com")
    smtp.refuse = "550 no such user"
    row = make_page(users["responder"], **PAGE)
    assert sending.notification_send(notification_id=row.pk, now=T0) == "failed"
    row.refresh_from_db()
    assert "550" in row.error
    assert Notification.objects.count() == 1  # no retry for a permanent error


def test_a_temporary_refusal_is_retried(users, smtp):
    make_contact_method(users["responder"])
    smtp.refuse = "451 try again later"
    row = make_page(users["responder"], **PAGE)
    sending.notification_send(notification_id=row.pk, now=T0)
    retry = Notification.objects.get(status="pending")
    assert (retry.attempt, retry.retry_of_id) == (2, row.pk)


def test_an_smtp_server_that_is_down_is_a_transient_failure(users, settings):
    send_email_to(settings, free_port())  # nobody listens
    make_contact_method(users["responder"])
    row = make_page(users["responder"], **PAGE)
    assert sending.notification_send(notification_id=row.pk, now=T0) == "failed"
    row.refresh_from_db()
    assert "ConnectionRefused" in row.error
    assert Notification.objects.filter(status="pending", attempt=2).exists()
