"""The notification settings page: your own contact methods (add, switch, test, remove) and
your time zone."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from core.models import AuditEntry
from incidents.models import ContactMethod, Notification
from incidents.tests.notify_support import allow_loopback, running_receiver, running_smtp_sink
from oncall.models import UserProfile

pytestmark = pytest.mark.django_db

PAGE = "/account/contact-methods/"


@pytest.fixture
def smtp(settings):
    yield from running_smtp_sink(settings)


@pytest.fixture
def receiver(settings):
    allow_loopback(settings)
    yield from running_receiver()


def mine(user, address="me@example.com", **options):
    return ContactMethod.objects.create(
        verified_at=timezone.now(), user=user, kind="email", address=address, **options
    )


def test_the_page_lists_only_your_own_methods(client, users):
    mine(users["responder"], "responder@example.com")
    mine(users["manager"], "manager@example.com")
    client.force_login(users["responder"])
    page = client.get(PAGE).content.decode()
    assert "responder@example.com" in page and "manager@example.com" not in page
    client.force_login(users["viewer"])
    assert "escalation cannot reach you" in client.get(PAGE).content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, users):
    method = mine(users["responder"])
    for url, send in [
        (PAGE, client.get),
        (PAGE, client.post),
        (f"/account/contact-methods/{method.pk}/test", client.post),
        (f"/account/contact-methods/{method.pk}/delete", client.post),
        ("/account/time-zone", client.post),
    ]:
        response = send(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert ContactMethod.objects.count() == 1


def test_adding_a_webhook_shows_its_secret_once(client, users):
    client.force_login(users["viewer"])
    data = {"kind": "webhook", "address": "https://hooks.example.com/a", "notify_escalations": "on"}
    response = client.post(PAGE, data)
    assert response.status_code == 200
    method = ContactMethod.objects.get(user=users["viewer"])
    page = response.content.decode()
    assert f'<code data-role="webhook-secret">{method.secret}</code>' in page
    assert method.secret not in client.get(PAGE).content.decode()
    assert AuditEntry.objects.filter(
        action="contact_method.created", actor=users["viewer"]
    ).exists()


def test_adding_an_email_says_what_it_receives_without_a_secret(client, users):
    client.force_login(users["responder"])
    data = {"kind": "email", "address": "me@example.com", "notify_handoffs": "on"}
    page = client.post(PAGE, data).content.decode()
    method = ContactMethod.objects.get()
    assert (method.notify_escalations, method.notify_handoffs) == (False, True)
    assert "It receives on-call handoffs" in page and "webhook-secret" not in page


@pytest.mark.parametrize(
    ("kind", "address", "message"),
    [
        ("email", "nope", "Enter a valid email address."),
        ("webhook", "ftp://example.com/x", "Enter an http:// or https:// URL."),
        ("webhook", "https://u:p@example.com/x", "URLs with a user name or password"),
    ],
)
def test_a_bad_address_is_shown_on_the_form(client, users, kind, address, message):
    client.force_login(users["responder"])
    response = client.post(PAGE, {"kind": kind, "address": address, "notify_escalations": "on"})
    assert response.status_code == 400
    errors = re.findall(r'data-role="address-error">([^<]+)<', response.content.decode())
    assert errors and errors[0].startswith(message.replace("'", "&#x27;"))
    assert not ContactMethod.objects.exists()


def test_switching_a_method_off_and_choosing_what_it_receives(client, users):
    method = mine(users["responder"])
    client.force_login(users["responder"])
    url = f"/account/contact-methods/{method.pk}/update"
    response = client.post(url, {"notify_handoffs": "on"})  # unticked boxes are absent
    assert response.status_code == 302 and response["Location"] == PAGE
    method.refresh_from_db()
    assert (method.enabled, method.notify_escalations, method.notify_handoffs) == (
        False,
        False,
        True,
    )
    entry = AuditEntry.objects.get(action="contact_method.updated")
    assert entry.changes["enabled"] == [True, False]


def test_sending_a_test_from_the_page(client, users, smtp):
    method = mine(users["responder"], "responder@example.com")
    client.force_login(users["responder"])
    response = client.post(f"/account/contact-methods/{method.pk}/test", follow=True)
    page = response.content.decode()
    assert "Test sent to responder@example.com" in page
    assert len(smtp.messages) == 1
    assert Notification.objects.get().reason == "test"
    assert "notify-sent" in page  # in the recent notifications
    again = client.post(f"/account/contact-methods/{method.pk}/test", follow=True)
    assert "try again in" in again.content.decode() and len(smtp.messages) == 1


def test_a_failed_test_shows_the_endpoints_answer(client, users, receiver):
    receiver.default = 410
    method = ContactMethod.objects.create(
        verified_at=timezone.now(), user=users["responder"], kind="webhook", address=receiver.url
    )
    client.force_login(users["responder"])
    response = client.post(f"/account/contact-methods/{method.pk}/test", follow=True)
    assert "failed: HTTP 410" in response.content.decode()


def test_removing_a_method(client, users):
    method = mine(users["responder"])
    client.force_login(users["responder"])
    response = client.post(f"/account/contact-methods/{method.pk}/delete")
    assert response.status_code == 302
    assert not ContactMethod.objects.exists()
    assert AuditEntry.objects.filter(action="contact_method.deleted").count() == 1


@pytest.mark.parametrize("role", ["manager", "viewer", "outsider"])
def test_nobody_changes_anyone_elses_methods(client, users, role):
    method = mine(users["responder"])
    client.force_login(users[role])
    for action in ("update", "test", "delete"):
        assert client.post(f"/account/contact-methods/{method.pk}/{action}").status_code == 404
    method.refresh_from_db()
    assert method.enabled and not Notification.objects.exists()


def test_setting_your_time_zone(client, users):
    client.force_login(users["responder"])
    response = client.post("/account/time-zone", {"time_zone": "America/New_York"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert UserProfile.objects.get(user=users["responder"]).time_zone == "America/New_York"
    assert "Now: America/New_York" in client.get(PAGE).content.decode()


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", ""])
def test_an_unknown_time_zone_is_refused(client, users, zone):
    client.force_login(users["responder"])
    response = client.post("/account/time-zone", {"time_zone": zone})
    assert response.status_code == 400
    assert "Choose a time zone from the list" in response.content.decode()
    assert not UserProfile.objects.filter(user=users["responder"]).exclude(time_zone="UTC").exists()


def test_forms_need_the_csrf_token_and_the_page_carries_no_inline_script(users):
    method = mine(users["responder"])
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(users["responder"])
    page = browser.get(PAGE).content.decode()
    assert page.count("csrfmiddlewaretoken") >= 5
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert browser.post(f"/account/contact-methods/{method.pk}/delete").status_code == 403
    assert ContactMethod.objects.exists()


def test_recent_notifications_show_in_your_time_zone(client, users, smtp):
    from datetime import UTC, datetime

    from incidents.notify import contacts

    method = mine(users["responder"])
    contacts.contact_method_test(method=method, now=datetime(2026, 7, 1, 12, 0, tzinfo=UTC))
    UserProfile.objects.create(user=users["responder"], time_zone="Europe/Berlin")
    client.force_login(users["responder"])
    assert "2026-07-01 14:00:00 CEST" in client.get(PAGE).content.decode()
