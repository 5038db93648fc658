"""Phone numbers of SMS and voice contact methods: E.164 as Twilio takes it, and only the
last four digits in the audit log."""

from __future__ import annotations

import pytest

from core.models import AuditEntry
from incidents.models import ContactMethod
from incidents.notify.address import address_problem, redacted


@pytest.mark.parametrize("kind", ["sms", "voice"])
@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("+4915112345678", True),
        ("+14155550123", True),
        ("+12345678", True),  # 8 digits: the shortest E.164 number
        ("+123456789012345", True),  # 15 digits: the longest
        ("+1234567", False),
        ("+1234567890123456", False),
        ("015112345678", False),  # national form
        ("4915112345678", False),  # no +
        ("+49 151 12345678", False),
        ("+49-151-12345678", False),
        ("+0123456789", False),  # no country code starts with 0
        ("+49151123456789a", False),
        ("+\uff14\uff19151123456", False),  # full-width digits
        ("", False),
    ],
)
def test_phone_numbers(kind, number, ok):
    assert (address_problem(kind, number) is None) is ok


def test_the_audit_log_keeps_only_the_last_four_digits():
    assert redacted("sms", "+4915112345678") == "+…5678"
    assert redacted("voice", "+4915112345678") == "+…5678"


@pytest.mark.django_db
def test_adding_a_number_is_audited_without_it(client, users):
    client.force_login(users["responder"])
    response = client.post(
        "/api/v1/contact-methods/",
        {"kind": "sms", "address": "+4915112345678"},
        "application/json",
    )
    assert response.status_code == 201, response.content
    entry = AuditEntry.objects.get()
    assert "5678" in entry.summary
    assert "+4915112345678" not in entry.summary + str(entry.changes)


@pytest.mark.django_db
def test_a_number_not_in_international_form_is_refused(client, users):
    client.force_login(users["responder"])
    response = client.post(
        "/api/v1/contact-methods/", {"kind": "voice", "address": "0151 1234"}, "application/json"
    )
    assert response.status_code == 400
    assert "international form" in response.json()["address"][0]
    assert not ContactMethod.objects.exists()
