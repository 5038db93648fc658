"""Verifying a new contact method: a code goes out through the method itself (here: the real
SMTP transport), comes back through the API or the page, and only then does the method
receive pages. Wrong, expired and exhausted codes are refused naming the field; the code is
kept only as a keyed hash, and the sent message's row no longer shows it."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import FieldErrors
from incidents.models import ContactMethod, Notification, NotificationStatus
from incidents.notify import pages, sending, verification
from incidents.tests.factories import make_alert_incident

pytestmark = pytest.mark.django_db

JSON = "application/json"
URL = "/api/v1/contact-methods/"
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def deliver_code(method_id: int, smtp) -> str:
    """Send the queued code (as the worker would) and read it from the mail that arrived."""
    row = Notification.objects.filter(contact_method_id=method_id, reason="verify").latest("id")
    assert sending.notification_send(notification_id=row.pk) == NotificationStatus.SENT
    body = smtp.messages[-1].get_body(("plain",)).get_content()
    return re.search(r"\b(\d{6})\b", body).group(1)


def test_a_new_method_is_paged_only_once_its_code_came_back(client, users, service, smtp):
    client.force_login(users["responder"])
    created = client.post(URL, {"kind": "email", "address": "r@example.com"}, JSON).json()
    assert created["verified"] is False and created["code_sent_at"]
    incident = make_alert_incident(service, T0)
    assert (
        pages.users_page(
            users=[users["responder"]], incident=incident, reason="escalation", why="x", at=T0
        )
        == set()
    )  # unverified: cannot be reached

    code = deliver_code(created["id"], smtp)
    assert smtp.messages[-1]["Subject"] == "[Pagerline] Your verification code"
    row = Notification.objects.get(contact_method_id=created["id"], reason="verify")
    assert code not in row.text  # the sent message's row keeps no copy
    method = ContactMethod.objects.get(pk=created["id"])
    assert code not in method.verify_code_hash

    answer = client.post(f"{URL}{created['id']}/verify/", {"code": code}, JSON)
    assert answer.status_code == 200, answer.content
    assert answer.json()["verified"] is True
    assert pages.users_page(
        users=[users["responder"]], incident=incident, reason="escalation", why="x", at=T0
    ) == {users["responder"].pk}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("12345", "Enter the six digits of the code."),
        ("abcdef", "Enter the six digits of the code."),
        ("", "This field may not be blank."),
    ],
)
def test_malformed_codes_are_refused_naming_the_field(client, users, code, message):
    client.force_login(users["responder"])
    created = client.post(URL, {"kind": "email", "address": "r@example.com"}, JSON).json()
    answer = client.post(f"{URL}{created['id']}/verify/", {"code": code}, JSON)
    assert answer.status_code == 400
    assert answer.json() == {"code": [message]}
    assert ContactMethod.objects.get().verified_at is None


def test_wrong_codes_run_out_and_a_new_code_starts_over(users, smtp):
    method = ContactMethod.objects.create(user=users["responder"], kind="email", address="r@x.io")
    verification.verification_send(method=method, now=T0)
    code = deliver_code(method.pk, smtp)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(FieldErrors) as refused:
            verification.verification_check(method=method, code=wrong, now=T0)
        assert refused.value.errors == {"code": [f"Wrong code; {left} tries left."]}
    with pytest.raises(FieldErrors) as refused:
        verification.verification_check(method=method, code=wrong, now=T0)
    assert refused.value.errors == {"code": ["Wrong code; send a new one."]}
    with pytest.raises(FieldErrors) as refused:
        verification.verification_check(method=method, code=code, now=T0)  # right, too late
    assert refused.value.errors == {"code": ["Too many wrong codes; send a new one."]}

    with pytest.raises(verification.CodeTooSoon):
        verification.verification_send(method=method, now=T0 + timedelta(seconds=10))
    verification.verification_send(method=method, now=T0 + timedelta(seconds=31))
    new_code = deliver_code(method.pk, smtp)
    if new_code != code:
        with pytest.raises(FieldErrors):
            verification.verification_check(method=method, code=code, now=T0 + timedelta(1 / 24))
    verification.verification_check(method=method, code=new_code, now=T0 + timedelta(minutes=2))
    method.refresh_from_db()
    assert method.verified_at == T0 + timedelta(minutes=2)


def test_a_code_expires(users, smtp, settings):
    method = ContactMethod.objects.create(user=users["responder"], kind="email", address="r@x.io")
    verification.verification_send(method=method, now=T0)
    code = deliver_code(method.pk, smtp)
    late = T0 + timedelta(minutes=settings.PAGERLINE_VERIFY_CODE_MINUTES, seconds=1)
    with pytest.raises(FieldErrors) as refused:
        verification.verification_check(method=method, code=code, now=late)
    assert refused.value.errors == {"code": ["This code has expired; send a new one."]}


def test_the_page_verifies_and_resends(client, users, smtp):
    client.force_login(users["responder"])
    client.post("/account/contact-methods/", {"kind": "email", "address": "r@example.com"})
    method = ContactMethod.objects.get()
    page = client.get("/account/contact-methods/").content.decode()
    assert "not verified" in page and f"/account/contact-methods/{method.pk}/verify" in page
    code = deliver_code(method.pk, smtp)
    answer = client.post(f"/account/contact-methods/{method.pk}/send-code", follow=True)
    assert "moments ago" in answer.content.decode()  # within 30 s of the first code
    answer = client.post(
        f"/account/contact-methods/{method.pk}/verify", {"code": code}, follow=True
    )
    assert "is verified" in answer.content.decode()
    method.refresh_from_db()
    assert method.verified_at is not None
    assert "not verified" not in client.get("/account/contact-methods/").content.decode()


def test_an_already_verified_method_needs_no_code(client, users):
    method = ContactMethod.objects.create(
        user=users["responder"], kind="email", address="r@x.io", verified_at=T0
    )
    client.force_login(users["responder"])
    answer = client.post(f"{URL}{method.pk}/send-code/")
    assert answer.status_code == 400
    assert answer.json() == {"code": ["This contact method is already verified."]}
    assert not Notification.objects.exists()
