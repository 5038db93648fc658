"""The same reply delivered twice at the same moment (Twilio retrying while the first is
still being handled), and two replies for one incident at once: each on its own
connection, as two web processes would."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from incidents.models import ContactMethod, InboundMessage
from incidents.notify.phone import texts
from incidents.tests.factories import make_alert_incident
from incidents.tests.timeline.test_actions_concurrency import race

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks and concurrent writers: PostgreSQL only",
)

NUMBERS = {"responder": "+4915112345678", "manager": "+4915187654321"}


@pytest.fixture
def incident(transactional_db, service, users):
    for name, number in NUMBERS.items():
        ContactMethod.objects.create(
            user=users[name], kind="sms", address=number, verified_at=timezone.now()
        )
    return make_alert_incident(service, timezone.now())


def receive(answers, sid, sender, body):
    def run():
        answers.append(
            texts.sms_receive(message_sid=sid, sender=sender, body=body, now=timezone.now())
        )

    return run


@pytest.mark.parametrize("attempt", range(3))
def test_one_reply_delivered_twice_at_once_acts_once(incident, attempt):
    answers: list[str] = []
    sid = "SM" + "4" * 32
    outcomes = race([receive(answers, sid, NUMBERS["responder"], f"{incident.pk}a")] * 2)
    assert outcomes == ["ok", "ok"]
    assert answers == [f"Acknowledged #{incident.pk} (Checkout)"] * 2
    assert incident.events.filter(kind="acknowledged").count() == 1
    assert InboundMessage.objects.count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_people_replying_at_once_acknowledge_once(incident, attempt):
    answers: list[str] = []
    outcomes = race(
        [
            receive(answers, "SM" + "5" * 32, NUMBERS["responder"], f"{incident.pk}a"),
            receive(answers, "SM" + "6" * 32, NUMBERS["manager"], f"{incident.pk}A"),
        ]
    )
    assert outcomes == ["ok", "ok"]
    assert sorted(answers) == sorted(
        [f"Acknowledged #{incident.pk} (Checkout)", f"#{incident.pk} is already acknowledged"]
    )
    assert incident.events.filter(kind="acknowledged").count() == 1
