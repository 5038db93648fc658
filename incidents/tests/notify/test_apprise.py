"""Apprise contact methods: URLs checked when saved and before each send, stored encrypted
and shown masked, pages delivered by the real apprise library to a real local receiver
(json://) with acknowledge / resolve links, failures retried and counted by the breaker."""

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from incidents.models import CircuitBreaker, ContactMethod, Notification, NotificationStatus
from incidents.notify import contacts, sending
from incidents.tests.factories import make_alert_incident

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/contact-methods/"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
DISCORD = "discord://4174216298/JHMHI8qBe7bk2ZwO5U711o3dV_js"


def apprise_json(receiver) -> str:
    return receiver.url.replace("http://", "json://")


def verified(method: ContactMethod) -> ContactMethod:
    method.verified_at = T0
    method.save(update_fields=["verified_at"])
    return method


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("bogus://nothing", "Apprise does not recognise this URL"),
        ("https://example.com/not-apprise", "Apprise does not recognise this URL"),
        ("json://127.0.0.1:9/hook", "private address"),
        ("json://169.254.169.254/latest/meta-data", "private address"),
        ("ntfy://localhost/topic", "private address"),
        ("ntfy://10.1.2.3/topic", "private address"),
    ],
)
def test_unusable_apprise_urls_are_refused_naming_the_field(client, users, address, problem):
    client.force_login(users["responder"])
    answer = client.post(URL, {"kind": "apprise", "address": address}, JSON)
    assert answer.status_code == 400, answer.content
    assert problem in answer.json()["address"][0]
    assert not ContactMethod.objects.exists()


def test_the_url_is_stored_encrypted_and_shown_masked(client, users):
    client.force_login(users["responder"])
    answer = client.post(URL, {"kind": "apprise", "address": DISCORD}, JSON)
    assert answer.status_code == 201, answer.content
    shown = answer.json()["address"]
    assert shown.startswith("discord://") and "JHMHI8qBe7bk2ZwO5U711o3dV_js" not in shown
    assert "JHMHI8qBe7bk2ZwO5U711o3dV_js" not in json.dumps(client.get(URL).json())
    with connection.cursor() as cursor:
        cursor.execute("SELECT address, secret_target FROM incidents_contactmethod")
        ((address, stored),) = cursor.fetchall()
    assert "JHMHI8qBe7bk2ZwO5U711o3dV_js" not in address + stored
    assert stored.startswith("fernet:")
    assert ContactMethod.objects.get().secret_target == DISCORD
    again = client.post(URL, {"kind": "apprise", "address": DISCORD}, JSON)
    assert again.status_code == 400
    assert again.json() == {"address": ["You already have this contact method."]}


def test_rotation_reencrypts_with_the_new_key_and_the_old_key_can_go(settings, users):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PAGERLINE_ENCRYPTION_KEYS = [old]
    method = contacts.contact_method_create(
        user=users["responder"], kind="apprise", address=DISCORD
    )
    settings.PAGERLINE_ENCRYPTION_KEYS = [new, old]
    assert ContactMethod.objects.get(pk=method.pk).secret_target == DISCORD
    call_command("encryption_rotate", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.PAGERLINE_ENCRYPTION_KEYS = [new]
    assert ContactMethod.objects.get(pk=method.pk).secret_target == DISCORD
    settings.PAGERLINE_ENCRYPTION_KEYS = [old]
    with pytest.raises(Exception, match="cannot be decrypted"):
        ContactMethod.objects.get(pk=method.pk)


def test_a_page_reaches_the_local_receiver_with_links(service, users, receiver, settings):
    method = verified(
        contacts.contact_method_create(
            user=users["responder"], kind="apprise", address=apprise_json(receiver)
        )
    )
    incident = make_alert_incident(service, T0)
    (row,) = sending.methods_notify(
        methods=[method],
        reason="escalation",
        subject="[Pagerline] page",
        text="Checkout is down",
        at=T0,
        incident=incident,
    )
    assert sending.notification_send(notification_id=row.pk) == NotificationStatus.SENT
    # (The verification code queued when the method was added was never sent: no worker.)
    (body,) = [json.loads(r["body"]) for r in receiver.requests]
    assert body["title"] == "[Pagerline] page"
    assert "Checkout is down" in body["message"]
    assert f"{settings.PAGERLINE_BASE_URL}/a/" in body["message"]
    assert "Acknowledge: " in body["message"] and "Resolve: " in body["message"]
    assert row.endpoint == "apprise:127.0.0.1"


def test_a_failure_is_retried_and_counts_toward_the_hosts_breaker(service, users, receiver):
    receiver.default = 500
    method = verified(
        contacts.contact_method_create(
            user=users["responder"], kind="apprise", address=apprise_json(receiver)
        )
    )
    incident = make_alert_incident(service, T0)
    (row,) = sending.methods_notify(
        methods=[method], reason="escalation", subject="s", text="t", at=T0, incident=incident
    )
    assert sending.notification_send(notification_id=row.pk) == NotificationStatus.FAILED
    row.refresh_from_db()
    assert row.error
    retry = Notification.objects.get(retry_of=row)
    assert retry.status == NotificationStatus.PENDING and retry.attempt == 2
    assert CircuitBreaker.objects.get(endpoint="apprise:127.0.0.1").failures == 1


def test_the_host_is_checked_again_before_each_send(service, users, receiver, settings):
    method = verified(
        contacts.contact_method_create(
            user=users["responder"], kind="apprise", address=apprise_json(receiver)
        )
    )
    settings.PAGERLINE_WEBHOOK_PRIVATE_NETWORKS = []  # the admin withdrew the permission
    incident = make_alert_incident(service, T0)
    (row,) = sending.methods_notify(
        methods=[method], reason="escalation", subject="s", text="t", at=T0, incident=incident
    )
    assert sending.notification_send(notification_id=row.pk) == NotificationStatus.FAILED
    row.refresh_from_db()
    assert "private address" in row.error
    assert not Notification.objects.filter(retry_of=row).exists()  # permanent: not retried
    assert receiver.requests == []
