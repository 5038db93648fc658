"""Contact methods through the API: your own only, addresses validated, the webhook secret
shown once, preferences, tests through the real transports, and the audit log."""

import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from core.models import AuditEntry
from incidents.admin import ContactMethodAdminForm
from incidents.models import CircuitBreaker, ContactMethod, Notification
from incidents.notify import contacts, sending
from incidents.tests.factories import make_contact_method
from oncall.tests.factories import make_user
from tests.peers import allow_loopback, free_port

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/contact-methods/"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX"


def add(client, **fields):
    return client.post(URL, {"kind": "email", "address": "me@example.com", **fields}, JSON)


def code_sent_to(method_id: int) -> str:
    """The code in the verification message queued for the method, as its owner reads it."""
    row = Notification.objects.filter(contact_method_id=method_id, reason="verify").latest("id")
    return re.search(r"\b(\d{6})\b", row.text).group(1)


def add_verified(client, **fields) -> dict:
    created = add(client, **fields).json()
    answer = client.post(
        f"{URL}{created['id']}/verify/", {"code": code_sent_to(created["id"])}, JSON
    )
    assert answer.status_code == 200 and answer.json()["verified"], answer.content
    return answer.json()


@pytest.mark.parametrize("role", ["manager", "responder", "viewer", "outsider"])
def test_everyone_manages_their_own_contact_methods(client, users, role):
    client.force_login(users[role])
    response = add(client)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["kind"] == "email" and created["address"] == "me@example.com"
    assert created["enabled"] and created["notify_escalations"] and not created["notify_handoffs"]
    assert created["secret"] is None  # emails are not signed
    assert [m["id"] for m in client.get(URL).json()["results"]] == [created["id"]]
    detail = f"{URL}{created['id']}/"
    assert client.patch(detail, {"enabled": False}, JSON).json()["enabled"] is False
    assert client.delete(detail).status_code == 204
    assert not ContactMethod.objects.exists()
    actions = AuditEntry.objects.filter(actor=users[role]).order_by("id")
    assert [e.action for e in actions] == [
        "contact_method.created",
        "contact_method.updated",
        "contact_method.deleted",
    ]
    assert all(e.team_id is None for e in actions)


def test_anonymous_requests_are_refused(client, users):
    method = make_contact_method(users["responder"], address="r@x.io")
    assert client.get(URL).status_code in {401, 403}
    assert add(client).status_code in {401, 403}
    assert client.patch(f"{URL}{method.pk}/", {"enabled": False}, JSON).status_code in {401, 403}
    assert client.delete(f"{URL}{method.pk}/").status_code in {401, 403}
    assert client.post(f"{URL}{method.pk}/test/").status_code in {401, 403}
    method.refresh_from_db()
    assert method.enabled


@pytest.mark.parametrize("role", ["manager", "viewer", "outsider", "staff"])
def test_nobody_sees_or_touches_anyone_elses_methods(client, users, role):
    method = make_contact_method(users["responder"], address="r@x.io")
    someone = users.get(role) or make_user("root", is_staff=True)
    client.force_login(someone)
    detail = f"{URL}{method.pk}/"
    assert client.get(URL).json()["results"] == []
    assert client.get(detail).status_code == 404
    assert client.patch(detail, {"enabled": False}, JSON).status_code == 404
    assert client.delete(detail).status_code == 404
    assert client.post(f"{detail}test/").status_code == 404
    method.refresh_from_db()
    assert method.enabled
    assert not Notification.objects.exists()


def test_a_webhooks_secret_is_shown_once_and_never_logged(client, users):
    client.force_login(users["responder"])
    created = add(client, kind="webhook", address=SLACK).json()
    method = ContactMethod.objects.get()
    assert created["secret"] == method.secret and len(method.secret) == 64
    assert "secret" not in client.get(URL).json()["results"][0]
    assert "secret" not in client.get(f"{URL}{method.pk}/").json()
    entry = AuditEntry.objects.get(action="contact_method.created")
    logged = json.dumps(entry.changes) + entry.summary
    assert method.secret not in logged and "XXXXsecretXXXX" not in logged
    assert "https://hooks.slack.com/" in logged


INVALID = [
    ("email", "not-an-address", "address"),
    ("email", "me@", "address"),
    ("email", " me@example.com", "address"),
    ("email", "", "address"),
    ("webhook", "ftp://example.com/hook", "address"),
    ("webhook", "javascript:alert(1)", "address"),
    ("webhook", "file:///etc/passwd", "address"),
    ("webhook", "https://user:pass@example.com/hook", "address"),
    ("webhook", "https://token@example.com/hook", "address"),
    ("webhook", "https:///no-host", "address"),
    ("webhook", "http://example.com:99999/hook", "address"),
    ("webhook", "http://exa mple.com/hook", "address"),
    ("webhook", "https://example.com/" + "x" * 1000, "address"),
    ("webhook", "me@example.com", "address"),
    ("pager", "+4912345", "kind"),
]


@pytest.mark.parametrize(("kind", "address", "field"), INVALID)
def test_it_refuses_unusable_addresses_naming_the_field(client, users, kind, address, field):
    client.force_login(users["responder"])
    response = add(client, kind=kind, address=address)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not ContactMethod.objects.exists()
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    "address",
    ["http://93.184.215.14:8080/hook", "https://hooks.example.com/a?b=c", "HTTPS://Example.com/x"],
)
def test_it_accepts_http_and_https_urls(client, users, address):
    client.force_login(users["responder"])
    assert add(client, kind="webhook", address=address).status_code == 201


def test_the_admin_uses_the_same_address_rule(users):
    form = ContactMethodAdminForm(
        data={
            "user": users["responder"].pk,
            "kind": "webhook",
            "enabled": "on",
            "address": "https://user:pass@example.com/hook",
        }
    )
    assert not form.is_valid()
    assert "address" in form.errors


def test_duplicates_and_too_many_methods_are_refused(client, users):
    client.force_login(users["responder"])
    assert add(client).status_code == 201
    again = add(client)
    assert again.status_code == 400 and "already have" in again.json()["address"][0]
    for i in range(contacts.MAX_METHODS_PER_USER - 1):
        assert add(client, address=f"me{i}@example.com").status_code == 201
    over = add(client, address="one-more@example.com")
    assert over.status_code == 400 and "At most" in over.json()["address"][0]


def test_kind_and_address_never_change(client, users):
    client.force_login(users["responder"])
    created = add(client).json()
    detail = f"{URL}{created['id']}/"
    for change in ({"address": "other@example.com"}, {"kind": "webhook"}, {"secret": "mine"}):
        response = client.patch(detail, change, JSON)
        assert response.status_code == 400 and next(iter(change)) in response.json()
    bad = client.patch(detail, {"notify_handoffs": "maybe"}, JSON)
    assert bad.status_code == 400 and "notify_handoffs" in bad.json()
    assert ContactMethod.objects.get().address == "me@example.com"


def test_preferences_decide_what_a_method_receives(client, users):
    client.force_login(users["responder"])
    pages = add_verified(client, address="pages@example.com")
    handoffs = add_verified(client, address="handoffs@example.com")
    client.patch(
        f"{URL}{handoffs['id']}/", {"notify_escalations": False, "notify_handoffs": True}, JSON
    )
    off = add_verified(client, address="off@example.com")
    client.patch(f"{URL}{off['id']}/", {"enabled": False}, JSON)
    unverified = add(client, address="unverified@example.com").json()
    client.patch(f"{URL}{unverified['id']}/", {"notify_handoffs": True}, JSON)

    def reached(reason):
        rows = sending.users_notify(
            users=[users["responder"]], reason=reason, subject="s", text="t", at=T0
        )
        return [row.contact_method_id for row in rows.get(users["responder"].pk, [])]

    assert reached("escalation") == [pages["id"]]
    assert reached("handoff") == [handoffs["id"]]
    entry = AuditEntry.objects.filter(action="contact_method.updated").order_by("id").first()
    assert entry.changes == {"notify_escalations": [True, False], "notify_handoffs": [False, True]}


def test_a_test_email_goes_through_the_real_smtp_transport(client, users, smtp):
    client.force_login(users["responder"])
    created = add(client, address="responder@example.com").json()
    response = client.post(f"{URL}{created['id']}/test/")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent" and response.json()["error"] == ""
    (message,) = smtp.messages
    assert message["To"] == "responder@example.com"
    assert message["Subject"] == "[Pagerline] Test notification"
    assert "pages will reach you here" in message.get_body(("plain",)).get_content()
    row = Notification.objects.get(reason="test")
    assert (row.reason, row.status, row.user, row.incident) == (
        "test",
        "sent",
        users["responder"],
        None,
    )

    too_soon = client.post(f"{URL}{created['id']}/test/")
    assert too_soon.status_code == 429 and int(too_soon["Retry-After"]) > 0
    assert len(smtp.messages) == 1 and Notification.objects.filter(reason="test").count() == 1


def test_tests_are_limited_per_method_not_forever(users, smtp):
    method = make_contact_method(users["responder"], address="r@x.io")
    assert contacts.contact_method_test(method=method, now=T0).status == "sent"
    with pytest.raises(contacts.TestTooSoon):
        contacts.contact_method_test(method=method, now=T0 + timedelta(seconds=29))
    later = T0 + contacts.TEST_INTERVAL
    assert contacts.contact_method_test(method=method, now=later).status == "sent"
    assert len(smtp.messages) == 2


def test_a_test_webhook_is_signed_with_the_secret_shown_at_creation(client, users, receiver):
    client.force_login(users["manager"])
    created = add(client, kind="webhook", address=receiver.url).json()
    response = client.post(f"{URL}{created['id']}/test/")
    assert response.json()["status"] == "sent"
    (request,) = receiver.requests
    expected = hmac.new(created["secret"].encode(), request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["X-Pagerline-Signature"] == f"sha256={expected}"
    payload = json.loads(request["body"])
    assert payload["reason"] == "test" and "pages will reach you here" in payload["text"]


def test_a_failing_test_reports_the_endpoints_answer_without_retrying(client, users, receiver):
    receiver.default = 404
    client.force_login(users["manager"])
    created = add(client, kind="webhook", address=receiver.url).json()
    response = client.post(f"{URL}{created['id']}/test/")
    assert response.status_code == 200
    assert response.json()["status"] == "failed" and "HTTP 404" in response.json()["error"]
    assert Notification.objects.filter(reason="test").count() == 1  # no retry row
    assert not CircuitBreaker.objects.exists()  # one person's test never trips a breaker


def test_a_test_to_a_dead_endpoint_fails_fast_and_is_recorded(client, users, settings):
    allow_loopback(settings)
    client.force_login(users["manager"])
    url = f"http://127.0.0.1:{free_port()}/hook"
    created = add(client, kind="webhook", address=url).json()
    response = client.post(f"{URL}{created['id']}/test/")
    assert response.json()["status"] == "failed"
    row = Notification.objects.get(reason="test")
    assert row.status == "failed" and "ConnectionError" in row.error


def test_deleting_a_method_keeps_the_record_of_what_was_sent(client, users, smtp):
    client.force_login(users["responder"])
    created = add(client).json()
    client.post(f"{URL}{created['id']}/test/")
    assert client.delete(f"{URL}{created['id']}/").status_code == 204
    row = Notification.objects.get(reason="test")
    assert row.status == "sent" and row.contact_method is None
