"""In a storm, one send task per message rather than one per page: a new page gets a task
of its own only when nothing ahead of it will carry it (bundling.tasks_needed). What the
person sees must not change: every page still goes, as soon as it could before, and
pages never wait behind a message that failed or a worker that died."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import Notification
from incidents.notify import bundling, sending
from incidents.tests.factories import make_alert_incident
from incidents.tests.notify.test_bundling import bodies, hook, page
from incidents.timeline import actions
from tests.peers import Receiver, allow_loopback
from tests.support import wait_for

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def enqueued(monkeypatch):
    """The send tasks handed to the broker, by notification id."""
    tasks: list[int] = []
    monkeypatch.setattr(sending, "_enqueue", lambda pk, eta=None: tasks.append(pk))
    return tasks


def outages(service, count: int) -> list:
    return [
        make_alert_incident(service, T0, key=f"k{n}", title=f"Outage {n}") for n in range(count)
    ]


def paged(method, incident, at, capture) -> Notification:
    """A page, committed (its after-commit work done)."""
    with capture(execute=True):
        return page(method, incident, at)


@pytest.mark.django_db
def test_pages_behind_a_message_being_sent_ride_the_wake_up(
    service, users, receiver, enqueued, django_capture_on_commit_callbacks
):
    method = hook(users["responder"], receiver.url)
    first, second, third = outages(service, 3)
    a = paged(method, first, T0, django_capture_on_commit_callbacks)
    assert enqueued == [a.pk]
    assert bundling.claim(notification_id=a.pk, now=T0).row.pk == a.pk  # a worker sends it

    later = T0 + timedelta(seconds=1)
    b = paged(method, second, later, django_capture_on_commit_callbacks)
    c = paged(method, third, later, django_capture_on_commit_callbacks)
    assert enqueued == [a.pk]  # no task each: they wait for that message

    # The message went; its sender wakes the first page that waited.
    Notification.objects.filter(pk=a.pk).update(status="sent", finished_at=later)
    woken, at = bundling.next_waiting(contact_method_id=method.pk, now=later)
    assert (woken, at) == (b.pk, later)
    assert sending.notification_send(notification_id=woken, now=later) == "sent"
    (bundle,) = bodies(receiver)
    assert [i["id"] for i in bundle["incidents"]] == [second.pk, third.pk]
    assert Notification.objects.get(pk=c.pk).bundled_into_id == b.pk


@pytest.mark.django_db
def test_pages_committed_together_share_one_task_and_one_message(
    service, users, receiver, enqueued, django_capture_on_commit_callbacks
):
    mine = hook(users["responder"], receiver.url)
    theirs = hook(users["manager"], receiver.url)
    first, second = outages(service, 2)
    with django_capture_on_commit_callbacks(execute=True):
        a = page(mine, first, T0)
        b = page(mine, second, T0)
        other = page(theirs, first, T0)
    assert enqueued == [a.pk, other.pk]  # the oldest of each method

    assert sending.notification_send(notification_id=a.pk, now=T0) == "sent"
    assert sending.notification_send(notification_id=other.pk, now=T0) == "sent"
    bundle, single = bodies(receiver)
    assert [i["id"] for i in bundle["incidents"]] == [first.pk, second.pk]
    assert single["incident"]["id"] == first.pk
    assert Notification.objects.get(pk=b.pk).status == "sent"


@pytest.mark.django_db
def test_deciding_takes_one_look_per_contact_method_whatever_its_history(
    service, users, receiver, django_assert_num_queries
):
    mine, theirs = hook(users["responder"], receiver.url), hook(users["manager"], receiver.url)
    incidents = outages(service, 21)
    for incident in incidents[:20]:  # history: sent long ago
        assert sending.notification_send(notification_id=page(mine, incident, T0).pk) == "sent"
    later = T0 + timedelta(hours=1)
    rows = [page(mine, incidents[20], later), page(theirs, incidents[20], later)]
    with django_assert_num_queries(2):  # the first open page of each method answers
        assert bundling.tasks_needed(rows=rows, now=later) == [row.pk for row in rows]


@pytest.mark.django_db
def test_a_retry_waiting_for_its_backoff_does_not_hold_a_new_page_back(
    service, users, receiver, enqueued, django_capture_on_commit_callbacks
):
    method = hook(users["responder"], receiver.url)
    first, second = outages(service, 2)
    receiver.replies = [503]
    a = paged(method, first, T0, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert sending.notification_send(notification_id=a.pk, now=T0) == "failed"
    retry = Notification.objects.get(retry_of=a)
    assert retry.next_attempt_at == T0 + timedelta(seconds=30)

    later = T0 + timedelta(seconds=5)
    b = paged(method, second, later, django_capture_on_commit_callbacks)
    assert enqueued[-1] == b.pk  # its own task: the retry is not due for 25 s
    assert sending.notification_send(notification_id=b.pk, now=later) == "sent"
    assert bodies(receiver)[-1]["incident"]["id"] == second.pk


@pytest.mark.django_db
def test_under_a_channel_limit_pages_behind_a_held_one_wait_for_its_task(
    service, users, receiver, enqueued, settings, django_capture_on_commit_callbacks
):
    settings.PAGERLINE_CHANNEL_INTERVAL_SECONDS = {"webhook": 30}
    method = hook(users["responder"], receiver.url)
    first, second, third = outages(service, 3)
    a = paged(method, first, T0, django_capture_on_commit_callbacks)
    assert sending.notification_send(notification_id=a.pk, now=T0) == "sent"
    b = paged(method, second, T0 + timedelta(seconds=5), django_capture_on_commit_callbacks)
    assert sending.notification_send(notification_id=b.pk, now=T0 + timedelta(seconds=5)) == "held"
    tasks = len(enqueued)

    c = paged(method, third, T0 + timedelta(seconds=6), django_capture_on_commit_callbacks)
    assert len(enqueued) == tasks  # b's task at the limit's end carries it

    due = T0 + timedelta(seconds=30)
    assert sending.notification_send(notification_id=b.pk, now=due) == "sent"
    assert [i["id"] for i in bodies(receiver)[-1]["incidents"]] == [second.pk, third.pk]
    assert Notification.objects.get(pk=c.pk).status == "sent"


@pytest.mark.django_db
def test_a_page_queued_behind_pages_that_were_dropped_is_woken(
    service, users, receiver, enqueued, django_capture_on_commit_callbacks
):
    """The claim ahead read before this page was there and dropped all it took (their
    incidents were acknowledged): its wake-up sends this one."""
    method = hook(users["responder"], receiver.url)
    first, second = outages(service, 2)
    a = paged(method, first, T0, django_capture_on_commit_callbacks)
    actions.incident_acknowledge(incident_id=first.pk, user=users["responder"], at=T0)
    later = T0 + timedelta(seconds=3)
    b = paged(method, second, later, django_capture_on_commit_callbacks)
    assert enqueued == [a.pk]  # a is ahead of it

    # a's task claims as of T0, before b was there.
    assert sending.notification_send(notification_id=a.pk, now=T0) == "skipped"
    assert enqueued == [a.pk, b.pk]
    assert sending.notification_send(notification_id=b.pk, now=later) == "sent"
    assert bodies(receiver)[0]["incident"]["id"] == second.pk


@pytest.mark.django_db
def test_pages_behind_a_sender_that_died_go_with_the_redrive(
    service, users, receiver, enqueued, settings, django_capture_on_commit_callbacks
):
    method = hook(users["responder"], receiver.url)
    first, second = outages(service, 2)
    a = paged(method, first, T0, django_capture_on_commit_callbacks)
    bundling.claim(notification_id=a.pk, now=T0)  # and the worker is killed mid-send
    b = paged(method, second, T0 + timedelta(seconds=1), django_capture_on_commit_callbacks)
    assert enqueued == [a.pk]

    late = T0 + timedelta(seconds=settings.PAGERLINE_NOTIFY_CLAIM_TIMEOUT_SECONDS + 1)
    with django_capture_on_commit_callbacks(execute=True):
        sending.notifications_redrive(now=late)
    retry = Notification.objects.get(retry_of=a)
    assert retry.pk in enqueued and b.pk in enqueued
    assert sending.notification_send(notification_id=retry.pk, now=late) == "sent"
    (bundle,) = bodies(receiver)
    assert sorted(i["id"] for i in bundle["incidents"]) == [first.pk, second.pk]
    assert Notification.objects.get(pk=b.pk).status == "sent"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_pages_queued_behind_a_failing_send_do_not_wait_for_its_retry(
    service, users, settings, worker_env, make_worker
):
    allow_loopback(settings, worker_env)
    server = Receiver().start()
    try:
        server.replies = ["hang"]  # the first message times out (retried in 30 s)
        server.hang_seconds = 3.0
        method = hook(users["responder"], server.url)
        make_worker("--concurrency", "2", env={"PAGERLINE_WEBHOOK_TIMEOUT_SECONDS": "1"})
        incidents = [
            make_alert_incident(service, timezone.now(), key=f"k{n}", title=f"Outage {n}")
            for n in range(4)
        ]
        page(method, incidents[0], timezone.now())
        wait_for(lambda: len(server.requests) == 1, timeout=20, message="the first page")
        for incident in incidents[1:]:  # while the first is still waiting for an answer
            page(method, incident, timezone.now())
        wait_for(lambda: len(server.requests) == 2, timeout=15, message="no bundle came")
        bundle = bodies(server)[1]
        assert [i["id"] for i in bundle["incidents"]] == [i.pk for i in incidents[1:]]
        assert server.requests[1]["at"] - server.requests[0]["at"] < 10  # not the retry's 30 s
    finally:
        server.stop()
