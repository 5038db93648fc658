"""From an alert to an acknowledgement through an email link, with real parts: an
Alertmanager webhook, a real Celery worker (intake, escalation, the person's rules, the
email transport), a real SMTP server (aiosmtpd) receiving the page, and the link taken
from the received mail: its GET changes nothing, its POST acknowledges."""

import json
import re

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from incidents.models import ActionToken, Incident, NotificationRule
from incidents.tests.factories import make_contact_method, make_policy
from tests.support import am_alert, am_payload, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_alert_pages_by_email_and_the_link_in_the_mail_acknowledges(
    client, users, service, integration, smtp, worker_env, make_worker
):
    worker_env["EMAIL_URL"] = f"smtp://127.0.0.1:{smtp.port}"
    responder = users["responder"]
    mail = make_contact_method(responder)
    NotificationRule.objects.create(
        user=responder, urgency="high", delay_seconds=0, contact_method=mail
    )
    service.escalation_policy = make_policy(service.team, (0, [responder]))
    service.save()
    _, token = integration
    make_worker()

    body = am_payload(am_alert("CheckoutDown", severity="critical"))
    response = client.post(
        f"/hooks/alertmanager/{token}", json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 202
    (message,) = wait_for(lambda: list(smtp.messages), timeout=30, message="no page was mailed")
    incident = Incident.objects.get()
    assert message["To"] == mail.address
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    base = re.escape(django_settings.PAGERLINE_BASE_URL)
    found = dict(re.findall(rf"^(Acknowledge|Resolve):\s+{base}(/a/[\w-]+/)$", text, re.M))
    assert set(found) == {"Acknowledge", "Resolve"}, text

    # A mail scanner fetches both links; nothing happens.
    browser = Client()
    for path in found.values():
        page = browser.get(path)
        assert page.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "triggered" and incident.acknowledged_at is None
    assert not ActionToken.objects.filter(used_at__isnull=False).exists()
    assert f"Acknowledge #{incident.pk}" in browser.get(found["Acknowledge"]).content.decode()

    # The person presses the button.
    before = timezone.now()
    done = browser.post(found["Acknowledge"])
    assert done.status_code == 200
    assert "acknowledged by responder" in done.content.decode()
    incident.refresh_from_db()
    assert incident.status == "acknowledged" and incident.acknowledged_at >= before
    event = incident.events.get(kind="acknowledged")
    assert event.actor == responder and event.data["via"] == "email"
    client.force_login(users["viewer"])
    assert "via an email link" in client.get(f"/incidents/{incident.pk}/").content.decode()
    # The same link a second time: used.
    assert browser.post(found["Acknowledge"]).status_code == 410
