"""Twilio's status callbacks: each attempt's delivery status is recorded, and a text or a
call that did not reach the person moves their page on to its next rule step at once."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification, NotificationRule, PersonalPage
from incidents.notify import pages, sending
from incidents.tests.factories import make_alert_incident, make_policy
from incidents.tests.support import fire
from incidents.tests.twilio_support import (
    ACCOUNT_SID,
    call_fields,
    post_signed,
    running_fake_twilio,
)

pytestmark = pytest.mark.django_db

NUMBER = "+4915112345678"
BASE = "https://pagerline.example.com"


@pytest.fixture
def fake_twilio(settings):
    settings.PAGERLINE_BASE_URL = BASE
    yield from running_fake_twilio(settings)


def rules(user, *steps):
    """steps: (kind, delay_seconds)."""
    for kind, delay in steps:
        method = ContactMethod.objects.create(
            user=user, kind=kind, address=NUMBER, verified_at=timezone.now()
        )
        NotificationRule.objects.create(
            user=user, urgency="high", delay_seconds=delay, contact_method=method
        )


def page(service, user, *steps, key="k1"):
    """`user` paged for a new incident by their rules `steps`; the first step is sent.
    Returns the incident and the first step's attempt."""
    rules(user, *steps)
    service.escalation_policy = make_policy(service.team, (0, [user]))
    service.save()
    incident = make_alert_incident(service, timezone.now(), key=key)
    fire(incident, timezone.now())
    row = Notification.objects.get(incident=incident, channel=steps[0][0])
    sending.notification_send(notification_id=row.pk)
    row.refresh_from_db()
    return incident, row


@pytest.fixture
def paged(fake_twilio, service, users):
    """The responder's rules: a text at once, a call after 5 minutes; the text is sent."""
    return page(service, users["responder"], ("sms", 0), ("voice", 300))


def sms_status(client, sid, status, **more):
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "From": "+15005550006",
        "MessageSid": sid,
        "MessageStatus": status,
        "SmsSid": sid,
        "SmsStatus": status,
        "To": NUMBER,
        **more,
    }
    response = post_signed(client, "/hooks/twilio/status", params, base_url=BASE)
    assert response.status_code == 204, response.content
    return response


def call_status(client, sid, status, **more):
    params = {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "Direction": "outbound-api",
        "From": "+15005550006",
        "To": NUMBER,
        "CallDuration": "0",
        **more,
    }
    response = post_signed(client, "/hooks/twilio/status", params, base_url=BASE)
    assert response.status_code == 204, response.content


def test_each_status_is_recorded_on_its_attempt(client, paged):
    _, row = paged
    sms_status(client, row.provider_id, "sent")
    sms_status(client, row.provider_id, "delivered")
    row.refresh_from_db()
    assert row.delivery_status == "delivered"
    assert row.delivery_updated_at is not None


def test_a_late_status_does_not_hide_a_later_one(client, paged):
    _, row = paged
    sms_status(client, row.provider_id, "delivered")
    sms_status(client, row.provider_id, "sent")  # callbacks may arrive out of order
    row.refresh_from_db()
    assert row.delivery_status == "delivered"


def test_an_undelivered_text_moves_the_page_to_its_next_step_at_once(client, paged, users):
    incident, row = paged
    running = PersonalPage.objects.get(incident=incident)
    assert running.next_fire_at > timezone.now() + timedelta(minutes=4)
    sms_status(client, row.provider_id, "undelivered", ErrorCode="30003")
    running.refresh_from_db()
    assert running.next_fire_at <= timezone.now()
    # The step's task (here run by hand) places the call now, not in 5 minutes.
    assert pages.page_advance(page_id=running.pk, token=running.token) == "done"
    assert Notification.objects.filter(incident=incident, channel="voice").exists()
    # The incident page shows what Twilio reported.
    client.force_login(users["viewer"])
    assert "undelivered" in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_a_repeated_failure_hurries_the_page_once(client, paged, monkeypatch):
    _, row = paged
    hurried = []
    monkeypatch.setattr(pages, "page_hurry", lambda **kw: hurried.append(kw["page_id"]))
    sms_status(client, row.provider_id, "failed", ErrorCode="30006")
    sms_status(client, row.provider_id, "failed", ErrorCode="30006")
    sms_status(client, row.provider_id, "undelivered")
    assert hurried == [row.page_id]


@pytest.mark.parametrize("status", ["busy", "no-answer", "failed"])
def test_an_unanswered_call_moves_the_page_on(client, fake_twilio, service, users, status):
    incident, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    call_status(client, row.provider_id, status)
    row.refresh_from_db()
    assert row.delivery_status == status
    assert PersonalPage.objects.get(incident=incident).next_fire_at <= timezone.now()


def test_an_answered_call_does_not(client, fake_twilio, service, users):
    incident, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    call_status(client, row.provider_id, "completed")
    running = PersonalPage.objects.get(incident=incident)
    assert running.next_fire_at > timezone.now() + timedelta(minutes=9)


def test_a_failed_bundle_moves_every_page_in_it_on(client, fake_twilio, service, users):
    rules(users["responder"], ("sms", 0), ("voice", 300))
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.save()
    now = timezone.now()
    incidents = [make_alert_incident(service, now, key=f"k{n}") for n in range(3)]
    for incident in incidents:
        fire(incident, now)
    first, *rest = Notification.objects.filter(channel="sms").order_by("pk")
    Notification.objects.filter(pk__in=[r.pk for r in rest]).update(bundled_into=first)
    sending.notification_send(notification_id=first.pk)
    first.refresh_from_db()
    sms_status(client, first.provider_id, "undelivered")
    for running in PersonalPage.objects.filter(incident__in=incidents):
        assert running.next_fire_at <= timezone.now()


def test_a_status_for_an_unknown_sid_changes_nothing(client, paged):
    _, row = paged
    sms_status(client, "SM" + "f" * 32, "failed")
    row.refresh_from_db()
    assert row.delivery_status == "queued"


# --- answering machines -----------------------------------------------------------------------


def answer(client, row, answered_by):
    """Twilio's request for the call's TwiML once someone or something picked up."""
    params = call_fields(row.provider_id, caller="+15005550006", called=NUMBER)
    params["AnsweredBy"] = answered_by
    response = post_signed(client, f"/hooks/twilio/calls/{row.pk}", params, base_url=BASE)
    assert response.status_code == 200, response.content
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def test_calls_ask_twilio_who_answered(fake_twilio, service, users):
    page(service, users["responder"], ("voice", 0), ("sms", 600))
    (placed,) = fake_twilio.calls()
    assert placed["MachineDetection"] == "Enable"


@pytest.mark.parametrize("answered_by", ["machine_start", "machine_end_beep", "fax"])
def test_a_call_a_machine_answers_hangs_up_and_moves_the_page_on(
    client, fake_twilio, service, users, answered_by
):
    incident, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    root = answer(client, row, answered_by)
    assert root.find("Hangup") is not None
    assert root.find("Gather") is None and root.find("Say") is None  # no incident on tape
    row.refresh_from_db()
    assert row.delivery_status == "answered-by-machine"
    assert answered_by in row.error
    running = PersonalPage.objects.get(incident=incident)
    assert running.next_fire_at <= timezone.now()
    assert pages.page_advance(page_id=running.pk, token=running.token) == "done"
    assert Notification.objects.filter(incident=incident, channel="sms").exists()
    incident.refresh_from_db()
    assert incident.status == "triggered"


def test_the_status_callback_of_a_machine_answer_hurries_once(
    client, fake_twilio, service, users, monkeypatch
):
    _, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    hurried = []
    monkeypatch.setattr(pages, "page_hurry", lambda **kw: hurried.append(kw["page_id"]))
    answer(client, row, "machine_start")
    call_status(client, row.provider_id, "completed", AnsweredBy="machine_start")
    row.refresh_from_db()
    assert row.delivery_status == "answered-by-machine"  # "completed" does not hide it
    assert hurried == [row.page_id]


def test_a_machine_told_only_by_the_status_callback_moves_the_page_on(
    client, fake_twilio, service, users
):
    incident, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    call_status(client, row.provider_id, "completed", AnsweredBy="machine_end_silence")
    row.refresh_from_db()
    assert row.delivery_status == "answered-by-machine"
    assert PersonalPage.objects.get(incident=incident).next_fire_at <= timezone.now()


@pytest.mark.parametrize("answered_by", ["human", "unknown", ""])
def test_a_person_answering_hears_the_incident_as_before(
    client, fake_twilio, service, users, answered_by
):
    incident, row = page(service, users["responder"], ("voice", 0), ("sms", 600))
    root = answer(client, row, answered_by)
    assert len(root.findall("Gather")) == 2
    call_status(client, row.provider_id, "completed", AnsweredBy=answered_by)
    row.refresh_from_db()
    assert row.delivery_status == "completed"
    running = PersonalPage.objects.get(incident=incident)
    assert running.next_fire_at > timezone.now() + timedelta(minutes=9)
