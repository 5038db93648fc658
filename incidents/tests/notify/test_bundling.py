"""Storms: the first page to a person goes at once; pages that queue up behind a message
being sent, or that the channel's limit holds back, go out together as one message that
names every incident. Delivered to a real local HTTP receiver (webhook methods)."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification
from incidents.notify import sending
from incidents.tests.factories import make_alert_incident
from incidents.timeline import actions
from tests.peers import Receiver, allow_loopback
from tests.support import wait_for

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def hook(user, url) -> ContactMethod:
    return ContactMethod.objects.create(
        user=user, kind="webhook", address=url, verified_at=timezone.now()
    )


def page(method, incident, at) -> Notification:
    (row,) = sending.methods_notify(
        methods=[method],
        reason="escalation",
        subject=f"[Pagerline] #{incident.pk}",
        text=f"Incident #{incident.pk} needs you",
        at=at,
        incident=incident,
    )
    return row


def bodies(receiver) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.requests]


@pytest.mark.django_db
def test_a_channel_limit_holds_pages_back_and_sends_them_as_one(service, users, receiver, settings):
    settings.PAGERLINE_CHANNEL_INTERVAL_SECONDS = {"webhook": 30}
    method = hook(users["responder"], receiver.url)
    first, second, third, acked = (
        make_alert_incident(service, T0, key=f"k{n}", title=f"Outage {n}") for n in range(4)
    )
    assert sending.notification_send(notification_id=page(method, first, T0).pk, now=T0) == "sent"

    later = T0 + timedelta(seconds=5)
    rows = [page(method, incident, later) for incident in (second, third, acked)]
    assert sending.notification_send(notification_id=rows[0].pk, now=later) == "held"
    assert {
        r.next_attempt_at for r in Notification.objects.filter(pk__in=[r.pk for r in rows])
    } == {T0 + timedelta(seconds=30)}
    actions.incident_acknowledge(incident_id=acked.pk, user=users["responder"], at=later)

    due = T0 + timedelta(seconds=30)
    assert sending.notification_send(notification_id=rows[1].pk, now=due) == "sent"
    assert sending.notification_send(notification_id=rows[0].pk, now=due) == "not_claimed"
    single, bundle = bodies(receiver)
    assert single["incident"]["id"] == first.pk and "incidents" not in single
    assert [i["id"] for i in bundle["incidents"]] == [second.pk, third.pk]
    assert bundle["subject"] == f"[Pagerline] 2 new incidents on {service.name}"
    assert f"#{second.pk}" in bundle["text"] and f"#{third.pk}" in bundle["text"]
    states = dict(
        Notification.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "status")
    )
    assert states == {rows[0].pk: "sent", rows[1].pk: "sent", rows[2].pk: "skipped"}
    carried = Notification.objects.get(pk=rows[1].pk)
    assert carried.bundled_into_id == rows[0].pk  # the oldest carries the message
    # Each row keeps its own text; only the message named them all.
    assert carried.text == f"Incident #{third.pk} needs you"


@pytest.mark.django_db
def test_other_methods_and_other_people_are_not_held(service, users, receiver, settings):
    settings.PAGERLINE_CHANNEL_INTERVAL_SECONDS = {"webhook": 30}
    mine = hook(users["responder"], receiver.url)
    theirs = hook(users["manager"], receiver.url)
    incident = make_alert_incident(service, T0)
    assert sending.notification_send(notification_id=page(mine, incident, T0).pk) == "sent"
    assert sending.notification_send(notification_id=page(theirs, incident, T0).pk) == "sent"
    assert len(receiver.requests) == 2


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_pages_that_queue_behind_a_slow_send_go_out_together(
    service, users, settings, worker_env, make_worker
):
    allow_loopback(settings, worker_env)
    server = Receiver().start()
    try:
        server.replies = ["slow"]
        server.hang_seconds = 2.0
        method = hook(users["responder"], server.url)
        make_worker("--concurrency", "2")
        incidents = [
            make_alert_incident(service, timezone.now(), key=f"k{n}", title=f"Outage {n}")
            for n in range(4)
        ]
        page(method, incidents[0], timezone.now())
        wait_for(lambda: len(server.requests) == 1, timeout=20, message="the first page")
        for incident in incidents[1:]:  # while the first is still being answered
            page(method, incident, timezone.now())
        wait_for(lambda: len(server.requests) == 2, timeout=20, message="no bundle came")
        single, bundle = bodies(server)
        assert single["incident"]["id"] == incidents[0].pk
        assert [i["id"] for i in bundle["incidents"]] == [i.pk for i in incidents[1:]]
        wait_for(
            lambda: set(Notification.objects.values_list("status", flat=True)) == {"sent"},
            message="not every page was recorded as sent",
        )
    finally:
        server.stop()


@pytest.mark.django_db
def test_a_big_bundle_lists_twenty_and_counts_the_rest(service, users, receiver):
    from incidents.notify import message

    method = hook(users["responder"], receiver.url)
    rows = [
        page(method, make_alert_incident(service, T0, key=f"k{n}", title=f"Outage {n}"), T0)
        for n in range(25)
    ]
    head = rows[0]
    head.bundle = rows[1:]
    subject, text = message.bundle_summary(rows)
    assert subject == f"[Pagerline] 25 new incidents on {service.name}"
    assert text.count("Outage") == 20 and "... and 5 more" in text
    listed, more = message.listed(head)
    assert (len(listed), more) == (20, 5)
    assert len(message.payload(head)["incidents"]) == 25


@pytest.mark.django_db
def test_an_email_bundle_lists_each_incident_with_its_own_links(service, users, settings, smtp):
    from incidents.models import ActionToken

    settings.PAGERLINE_CHANNEL_INTERVAL_SECONDS = {"email": 30}
    mail = ContactMethod.objects.create(
        user=users["responder"], kind="email", address="r@example.com", verified_at=T0
    )
    first, second, third = (
        make_alert_incident(service, T0, key=f"k{n}", title=f"Outage {n}") for n in range(3)
    )
    assert sending.notification_send(notification_id=page(mail, first, T0).pk, now=T0) == "sent"
    rows = [page(mail, incident, T0) for incident in (second, third)]
    due = T0 + timedelta(seconds=30)
    assert sending.notification_send(notification_id=rows[0].pk, now=due) == "sent"
    bundle = smtp.messages[-1]
    assert bundle["Subject"] == f"[Pagerline] 2 new incidents on {service.name}"
    text = bundle.get_body(("plain",)).get_content()
    assert f"Incident #{second.pk}: Outage 1" in text
    assert f"Incident #{third.pk}: Outage 2" in text
    tokens = ActionToken.objects.filter(incident__in=[second, third], channel="email")
    assert sorted(tokens.values_list("incident_id", "action")) == sorted(
        (i.pk, a) for i in (second, third) for a in ("acknowledge", "resolve")
    )
    assert text.count(f"{settings.PAGERLINE_BASE_URL}/a/") == 4
