"""Answering a page by phone: Pagerline's call reads the incident when it is answered and
takes keys (4 acknowledge, 6 resolve); a call to Pagerline's number reads the caller's open
pages and takes the same keys for all of them."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, InboundMessage, Incident, Notification
from incidents.notify import sending
from incidents.tests.factories import make_alert_incident, make_policy
from incidents.tests.support import fire
from incidents.tests.twilio_support import call_fields, post_signed, running_fake_twilio

pytestmark = pytest.mark.django_db

NUMBER = "+4915112345678"
BASE = "https://pagerline.example.com"
CALL_SID = "CA" + "a" * 32


@pytest.fixture
def fake_twilio(settings):
    settings.PAGERLINE_BASE_URL = BASE
    yield from running_fake_twilio(settings)


@pytest.fixture
def called(fake_twilio, service, users):
    """An incident that paged the responder by phone, and the call placed for it."""
    ContactMethod.objects.create(
        user=users["responder"], kind="voice", address=NUMBER, verified_at=timezone.now()
    )
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.save()
    incident = make_alert_incident(service, timezone.now(), title="Checkout is down")
    fire(incident, timezone.now())
    row = Notification.objects.get(incident=incident, channel="voice")
    assert sending.notification_send(notification_id=row.pk) == "sent"
    (placed,) = fake_twilio.calls()
    assert placed["Url"] == f"{BASE}/hooks/twilio/calls/{row.pk}"
    return incident, row


def call(client, path, **fields):
    params = call_fields(CALL_SID, caller="+15005550006", called=NUMBER, **fields)
    response = post_signed(client, path, params, base_url=BASE)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    return ET.fromstring(response.content)  # noqa: S314 - our own answer


def said(root) -> str:
    return " ".join(e.text or "" for e in root.iter("Say"))


def test_the_call_reads_the_incident_and_waits_for_a_key(client, called):
    incident, row = called
    root = call(client, f"/hooks/twilio/calls/{row.pk}")
    gathers = root.findall("Gather")
    assert len(gathers) == 2  # asked twice, then goodbye
    assert gathers[0].get("numDigits") == "1"
    assert gathers[0].get("action") == f"{BASE}/hooks/twilio/calls/{row.pk}/keys"
    assert said(gathers[0]) == (
        f"This is Pagerline. Incident {incident.pk}, critical, on Checkout: Checkout is down. "
        "Press 4 to acknowledge, 6 to resolve."
    )
    assert root.find("Hangup") is not None


def test_key_4_acknowledges_as_the_person_called_via_a_phone_call(client, called, users):
    incident, row = called
    root = call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="4")
    assert said(root) == f"Incident {incident.pk} acknowledged. Goodbye."
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    event = incident.events.get(kind="acknowledged")
    assert event.actor == users["responder"]
    assert event.data["via"] == "voice"
    client.force_login(users["viewer"])
    assert "via a phone call" in client.get(f"/incidents/{incident.pk}/").content.decode()


def test_key_6_resolves(client, called):
    incident, row = called
    call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="6")
    assert Incident.objects.get(pk=incident.pk).status == "resolved"


def test_another_key_asks_again_and_changes_nothing(client, called):
    incident, row = called
    root = call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="9")
    assert "Press 4 to acknowledge, 6 to resolve." in said(root)
    assert Incident.objects.get(pk=incident.pk).status == "triggered"
    assert not InboundMessage.objects.exists()
    # The second try works.
    call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="4")
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_a_replayed_key_changes_nothing_twice(client, called):
    incident, row = called
    first = said(call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="4"))
    again = said(call(client, f"/hooks/twilio/calls/{row.pk}/keys", Digits="6"))
    assert again == first
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"
    assert incident.events.filter(kind__in=["acknowledged", "resolved"]).count() == 1


def test_a_call_answered_after_someone_acknowledged_says_so(client, called, users):
    from incidents.timeline import actions

    incident, row = called
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
    root = call(client, f"/hooks/twilio/calls/{row.pk}")
    assert root.find("Gather") is None
    assert said(root) == (
        f"This is Pagerline. Incident {incident.pk} has been taken care of already. Goodbye."
    )


def test_a_verification_call_reads_the_code_digit_by_digit_twice(client, fake_twilio, users):
    method = ContactMethod.objects.create(user=users["responder"], kind="voice", address=NUMBER)
    (row,) = sending.methods_notify(
        methods=[method],
        reason="verify",
        subject="Pagerline verification",
        text="Your Pagerline code is 482913.",
        at=timezone.now(),
    )
    assert sending.notification_send(notification_id=row.pk) == "sent"
    root = call(client, f"/hooks/twilio/calls/{row.pk}")
    assert root.find("Gather") is None
    assert [e.text for e in root.iter("Say")] == ["Your Pagerline code is 4 8 2 9 1 3."] * 2


def test_calling_pagerline_reads_the_callers_open_pages(client, called, service):
    incident, _ = called
    root = call(client, "/hooks/twilio/voice", From=NUMBER, Direction="inbound")
    gather = root.find("Gather")
    assert gather.get("action") == f"{BASE}/hooks/twilio/voice/keys"
    assert said(gather).startswith(
        f"This is Pagerline. You have 1 open page. Incident {incident.pk}"
    )
    root = call(client, "/hooks/twilio/voice/keys", From=NUMBER, Digits="4")
    assert said(root) == f"Incident {incident.pk} acknowledged. Goodbye."
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"


def test_calling_pagerline_with_nothing_open(client, called, users):
    from incidents.timeline import actions

    actions.incident_resolve(incident_id=called[0].pk, user=users["manager"])
    root = call(client, "/hooks/twilio/voice", From=NUMBER)
    assert said(root) == "This is Pagerline. You have no open pages. Goodbye."


def test_calling_pagerline_from_an_unknown_number_learns_nothing(client, called):
    root = call(client, "/hooks/twilio/voice", From="+4930123456")
    assert said(root) == "This is Pagerline. This number is not set up to answer pages. Goodbye."
    root = call(client, "/hooks/twilio/voice/keys", From="+4930123456", Digits="4")
    assert "not set up" in said(root)
    assert Incident.objects.get(pk=called[0].pk).status == "triggered"
