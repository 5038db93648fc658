"""Texts and calls go out through Twilio's REST API (a local stand-in here): what is sent,
the SID kept for status callbacks, and which failures are retried."""

from __future__ import annotations

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification
from incidents.notify import sending
from incidents.notify.transports import twilio_api
from incidents.tests.factories import make_alert_incident
from incidents.tests.twilio_support import (
    ACCOUNT_SID,
    FROM_NUMBER,
    INVALID_NUMBER,
    running_fake_twilio,
)

pytestmark = pytest.mark.django_db

NUMBER = "+4915112345678"


@pytest.fixture
def fake_twilio(settings):
    settings.PAGERLINE_BASE_URL = "https://pagerline.example.com"
    yield from running_fake_twilio(settings)


def phone_method(user, kind="sms", number=NUMBER):
    return ContactMethod.objects.create(
        user=user, kind=kind, address=number, verified_at=timezone.now()
    )


def send(method, *, incident=None, text="Your Pagerline code is 123456", reason="escalation"):
    (row,) = sending.methods_notify(
        methods=[method],
        reason=reason,
        subject="subject",
        text=text,
        at=timezone.now(),
        incident=incident,
    )
    status = sending.notification_send(notification_id=row.pk)
    row.refresh_from_db()
    return status, row


def test_it_texts_a_page_with_its_reply_codes(fake_twilio, service, users):
    incident = make_alert_incident(service, timezone.now(), title="InstanceDown")
    status, row = send(phone_method(users["responder"]), incident=incident)
    assert status == "sent"
    (sent,) = fake_twilio.messages()
    n = incident.pk
    assert sent["Body"] == f"#{n} CRIT Checkout: InstanceDown. Reply {n}a ack, {n}r resolve"
    assert sent["To"] == NUMBER
    assert sent["From"] == FROM_NUMBER
    assert sent["StatusCallback"] == "https://pagerline.example.com/hooks/twilio/status"
    assert fake_twilio.requests[0]["auth"].startswith("Basic ")
    assert row.provider_id.startswith("SM") and len(row.provider_id) == 34
    assert row.delivery_status == "queued"
    assert row.endpoint == f"twilio:{fake_twilio.url.removeprefix('http://')}"


def test_it_texts_a_plain_message_such_as_a_verification_code(fake_twilio, users):
    status, row = send(phone_method(users["responder"]), reason="verify")
    assert status == "sent"
    assert fake_twilio.messages()[0]["Body"] == "Your Pagerline code is 123456"
    assert row.provider_id.startswith("SM")


def test_it_texts_one_bundle_for_pages_that_queued_up(fake_twilio, service, users):
    method = phone_method(users["responder"])
    now = timezone.now()
    first, *others = [
        make_alert_incident(service, now, key=f"k{n}", title=f"Disk {n} full") for n in range(3)
    ]
    rows = [
        sending.methods_notify(
            methods=[method], reason="escalation", subject="s", text="t", at=now, incident=i
        )[0]
        for i in (first, *others)
    ]
    Notification.objects.filter(pk__in=[r.pk for r in rows[1:]]).update(bundled_into=rows[0])
    assert sending.notification_send(notification_id=rows[0].pk) == "sent"
    body = fake_twilio.messages()[0]["Body"]
    assert body.startswith("3 new incidents on Checkout: ")
    assert all(f"#{i.pk} Disk" in body for i in (first, *others))
    assert body.endswith("Reply aa ack all, rr resolve all")
    assert len(body) <= 160


def test_it_places_a_call_whose_twiml_pagerline_serves(fake_twilio, service, users):
    incident = make_alert_incident(service, timezone.now())
    status, row = send(phone_method(users["responder"], kind="voice"), incident=incident)
    assert status == "sent"
    (call,) = fake_twilio.calls()
    assert call["To"] == NUMBER
    assert call["Url"] == f"https://pagerline.example.com/hooks/twilio/calls/{row.pk}"
    assert call["Method"] == "POST"
    assert call["StatusCallback"] == "https://pagerline.example.com/hooks/twilio/status"
    assert row.provider_id.startswith("CA")


def test_an_invalid_number_fails_for_good(fake_twilio, users):
    status, row = send(phone_method(users["responder"], number=INVALID_NUMBER))
    assert status == "failed"
    assert "21211" in row.error and "not a valid phone number" in row.error
    assert not Notification.objects.filter(retry_of=row).exists()
    assert row.provider_id == ""


@pytest.mark.parametrize("reply", [500, 503, 429])
def test_twilio_overloaded_or_down_is_retried(fake_twilio, users, reply):
    fake_twilio.replies = [reply]
    status, row = send(phone_method(users["responder"]))
    assert status == "failed"
    assert f"Twilio {reply}" in row.error
    assert Notification.objects.filter(retry_of=row, status="pending").exists()


def test_no_answer_in_time_is_retried(fake_twilio, users, monkeypatch):
    monkeypatch.setattr(twilio_api, "TIMEOUT_SECONDS", 0.3)
    fake_twilio.replies = ["hang"]
    fake_twilio.hang_seconds = 1.0
    status, row = send(phone_method(users["responder"]))
    assert status == "failed"
    assert "no answer within 0.3 s" in row.error
    assert Notification.objects.filter(retry_of=row, status="pending").exists()


def test_twilio_unreachable_is_retried(fake_twilio, users, settings):
    fake_twilio.stop()
    status, row = send(phone_method(users["responder"]))
    assert status == "failed"
    assert "ConnectionError" in row.error
    assert Notification.objects.filter(retry_of=row, status="pending").exists()


def test_without_twilio_settings_nothing_is_sent(fake_twilio, users, settings):
    settings.TWILIO_AUTH_TOKEN = ""
    status, row = send(phone_method(users["responder"]))
    assert status == "failed"
    assert "TWILIO_AUTH_TOKEN" in row.error
    assert fake_twilio.requests == []
    assert not Notification.objects.filter(retry_of=row).exists()


def test_wrong_credentials_are_not_retried(fake_twilio, users, settings):
    settings.TWILIO_ACCOUNT_SID = "AC" + "0" * 32
    status, row = send(phone_method(users["responder"]))
    assert status == "failed"
    assert "Twilio 404" in row.error or "Twilio 401" in row.error
    assert not Notification.objects.filter(retry_of=row).exists()
    assert ACCOUNT_SID not in row.error


def test_send_me_a_test_texts_the_number(client, fake_twilio, users):
    method = phone_method(users["responder"])
    client.force_login(users["responder"])
    response = client.post(f"/api/v1/contact-methods/{method.pk}/test/")
    assert response.status_code in {200, 201}, response.content
    (sent,) = fake_twilio.messages()
    assert sent["To"] == NUMBER
    assert sent["Body"] == (
        "This is a test from Pagerline for responder: pages will reach you here."
    )
    row = Notification.objects.get(reason="test")
    assert row.status == "sent" and row.provider_id.startswith("SM")
