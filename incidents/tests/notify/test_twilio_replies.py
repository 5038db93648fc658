"""Answering a page by text: a signed inbound SMS acts as the person whose verified number
sent it, through the responder actions, and gets a short answer back."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone

from incidents.models import (
    ContactMethod,
    InboundMessage,
    Incident,
    NotificationRule,
    PersonalPage,
)
from incidents.tests.factories import make_alert_incident, make_policy
from incidents.tests.support import fire
from incidents.tests.twilio_support import inbound_sms, post_signed, use_twilio_settings

pytestmark = pytest.mark.django_db

NUMBER = "+4915112345678"
BASE = "https://pagerline.example.com"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    use_twilio_settings(settings, BASE)


@pytest.fixture
def paged(service, users):
    """Two incidents that paged the responder (a text now, a call in 5 minutes), and one
    that paged nobody."""
    for kind, delay in (("sms", 0), ("voice", 300)):
        method = ContactMethod.objects.create(
            user=users["responder"], kind=kind, address=NUMBER, verified_at=timezone.now()
        )
        NotificationRule.objects.create(
            user=users["responder"], urgency="high", delay_seconds=delay, contact_method=method
        )
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.save()
    now = timezone.now()
    incidents = [
        make_alert_incident(service, now, key=f"k{n}", title=f"Disk {n} full") for n in range(2)
    ]
    for incident in incidents:
        fire(incident, now)
    service.escalation_policy = None
    service.save()
    quiet = make_alert_incident(service, now, key="quiet", title="Nobody was paged")
    return [*incidents, quiet]


def text(client, body, sender=NUMBER, sid=None):
    response = post_signed(
        client, "/hooks/twilio/sms", inbound_sms(sender, body, sid), base_url=BASE
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own answer
    assert root.tag == "Response"
    return " ".join(m.text or "" for m in root.findall("Message"))


def status_of(incident):
    return Incident.objects.get(pk=incident.pk).status


def test_a_code_acknowledges_the_incident_as_the_sender_via_sms(client, paged, users):
    incident = paged[0]
    before = timezone.now()
    assert text(client, f"{incident.pk}a") == f"Acknowledged #{incident.pk} (Checkout)"
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    assert incident.acknowledged_at >= before  # MTTA counts from the reply
    event = incident.events.get(kind="acknowledged")
    assert event.actor == users["responder"]
    assert event.data["via"] == "sms"
    # The page stops: the call due in 5 minutes will not be made.
    assert PersonalPage.objects.get(incident=incident).state == "stopped"
    assert PersonalPage.objects.get(incident=paged[1]).state == "active"
    assert status_of(paged[1]) == "triggered"


def test_the_timeline_says_who_acted_and_that_it_was_by_sms(client, paged, users):
    text(client, f"{paged[0].pk} A")
    client.force_login(users["viewer"])
    timeline = client.get(f"/api/v1/incidents/{paged[0].pk}/timeline/").json()["results"]
    assert [(e["actor"], e["text"]) for e in timeline if e["kind"] == "acknowledged"] == [
        ("responder", "via SMS")
    ]


def test_a_code_resolves(client, paged):
    assert text(client, f"{paged[1].pk}r") == f"Resolved #{paged[1].pk} (Checkout)"
    assert status_of(paged[1]) == "resolved"
    assert paged[1].events.get(kind="resolved").data["via"] == "sms"


def test_aa_acknowledges_every_open_page_of_the_sender_only(client, paged):
    first, second, _quiet = paged
    assert text(client, "aa") == f"Acknowledged 2: #{first.pk} #{second.pk}"
    assert [status_of(i) for i in paged] == ["acknowledged", "acknowledged", "triggered"]
    assert text(client, "AA") == "Nothing to acknowledge: none of your pages is open."


def test_rr_resolves_every_open_page_acknowledged_or_not(client, paged):
    first, second, _quiet = paged
    text(client, f"{first.pk}a")
    assert text(client, "rr") == f"Resolved 2: #{first.pk} #{second.pk}"
    assert [status_of(i) for i in paged] == ["resolved", "resolved", "triggered"]


def test_a_replayed_message_gets_the_same_answer_and_changes_nothing_twice(client, paged):
    incident = paged[0]
    sid = "SM" + "1" * 32
    first = text(client, f"{incident.pk}a", sid=sid)
    incident.refresh_from_db()
    text(client, f"{incident.pk}a")  # a new message: a new answer
    assert text(client, f"{incident.pk}r", sid=sid) == first  # the same SID again
    assert status_of(incident) == "acknowledged"
    assert incident.events.filter(kind="acknowledged").count() == 1
    assert InboundMessage.objects.filter(provider_id=sid).count() == 1


def test_help(client, paged):
    assert text(client, "help").startswith("Pagerline: reply 123a to acknowledge #123")


def test_stop_and_start_switch_texts_off_and_on(client, paged, users):
    method = ContactMethod.objects.get(user=users["responder"], kind="sms")
    assert text(client, "STOP") == ""  # Twilio itself confirms an opt-out
    method.refresh_from_db()
    assert method.opted_out_at is not None
    assert text(client, "unsubscribe") == ""
    assert text(client, "start") == "Pagerline texts are back on."
    method.refresh_from_db()
    assert method.opted_out_at is None


def test_a_stopped_number_is_not_paged_by_sms(client, paged, service, users):
    from incidents.models import Notification

    text(client, "stop")
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.save()
    incident = make_alert_incident(service, timezone.now(), key="after-stop")
    fire(incident, timezone.now())
    assert not Notification.objects.filter(incident=incident, channel="sms").exists()


def test_the_inbound_message_is_kept_with_what_was_answered(client, paged, users):
    text(client, f"{paged[0].pk}a", sid="SM" + "2" * 32)
    record = InboundMessage.objects.get(provider_id="SM" + "2" * 32)
    assert record.channel == "sms"
    assert record.sender == NUMBER
    assert record.user == users["responder"]
    assert record.outcome == f"Acknowledged #{paged[0].pk} (Checkout)"


def test_the_served_app_routes_twilio_to_its_views_not_to_alert_intake(paged):
    """gunicorn serves config.wsgi.application, whose HookFront answers /hooks/<source>/...
    alert webhooks itself: /hooks/twilio/sms must still reach the Twilio view."""
    from urllib.parse import urlencode

    from incidents.tests.twilio_support import twilio_signature
    from tests.support import WsgiClient

    params = inbound_sms(NUMBER, f"{paged[0].pk}a")
    response = WsgiClient(host="testserver").post(
        "/hooks/twilio/sms",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(BASE + "/hooks/twilio/sms", params)},
    )
    assert response.status_code == 200
    assert f"Acknowledged #{paged[0].pk}" in response.content.decode()
    assert status_of(paged[0]) == "acknowledged"
