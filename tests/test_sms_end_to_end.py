"""From an alert to a person's phone and back, with real processes: an Alertmanager webhook
opens an incident, a real Celery worker escalates it, the on-call person's rules text them
through Twilio (a local stand-in answering as Twilio does), they reply with the code in
the text (a request signed as Twilio signs it), and the incident is acknowledged by them,
via SMS, on its timeline."""

from __future__ import annotations

import json
import re

import pytest
from django.utils import timezone

from incidents.models import (
    ContactMethod,
    Incident,
    IncidentStatus,
    Notification,
    NotificationRule,
)
from incidents.tests.factories import make_policy
from incidents.tests.twilio_support import inbound_sms, post_signed, running_fake_twilio
from tests.support import fixture_json, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

NUMBER = "+4915112345678"
BASE = "https://pagerline.example.com"


@pytest.fixture
def fake_twilio(settings, worker_env):
    settings.PAGERLINE_BASE_URL = worker_env["PAGERLINE_BASE_URL"] = BASE
    yield from running_fake_twilio(settings, worker_env)


def test_an_alert_texts_the_on_call_person_whose_reply_acknowledges_it(
    client, integration, service, users, fake_twilio, make_worker
):
    responder = users["responder"]
    method = ContactMethod.objects.create(
        user=responder, kind="sms", address=NUMBER, verified_at=timezone.now()
    )
    NotificationRule.objects.create(
        user=responder, urgency="high", delay_seconds=0, contact_method=method
    )
    service.escalation_policy = make_policy(service.team, (0, [responder]))
    service.save()
    make_worker()

    _, token = integration
    response = client.post(
        f"/hooks/alertmanager/{token}",
        json.dumps(fixture_json("alertmanager/firing.json")),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    incident = wait_for(
        lambda: Incident.objects.filter(status=IncidentStatus.TRIGGERED).first(),
        message="the worker did not open an incident",
    )
    (text,) = wait_for(fake_twilio.messages, timeout=15, message="no text reached Twilio")
    assert text["To"] == NUMBER
    n = incident.pk
    assert text["Body"] == (
        f"#{n} CRIT Checkout: Instance checkout-1:8080 down. Reply {n}a ack, {n}r resolve"
    )
    sent = wait_for(
        lambda: (
            Notification.objects.filter(incident=incident, status="sent", channel="sms")
            .exclude(provider_id="")
            .first()
        ),
        message="the text was not recorded as sent with its SID",
    )

    # Twilio reports the text delivered, then the person answers with the code it carries.
    status = {"MessageSid": sent.provider_id, "MessageStatus": "delivered", "To": NUMBER}
    assert post_signed(client, "/hooks/twilio/status", status, base_url=BASE).status_code == 204
    code = re.search(r"Reply (\d+a) ack", text["Body"])[1]
    reply = post_signed(client, "/hooks/twilio/sms", inbound_sms(NUMBER, code), base_url=BASE)
    assert reply.status_code == 200
    assert f"<Message>Acknowledged #{n} (Checkout)</Message>" in reply.content.decode()

    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    event = incident.events.get(kind="acknowledged")
    assert event.actor == responder
    assert incident.acknowledged_at == event.at
    client.force_login(users["viewer"])
    timeline = client.get(f"/api/v1/incidents/{n}/timeline/").json()["results"]
    acknowledged = [e for e in timeline if e["kind"] == "acknowledged"]
    assert [(e["actor"], e["text"]) for e in acknowledged] == [("responder", "via SMS")]
    sent.refresh_from_db()
    assert sent.delivery_status == "delivered"
    assert len(fake_twilio.messages()) == 1
