"""A person's notification rules with a real Celery worker: the later steps fire on their
ETA tasks, and when the worker is killed mid-page, beat's auditor fires the next step
anyway, once."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification, NotificationRule, PersonalPage
from incidents.tests.factories import make_alert_incident, make_policy
from tests.peers import allow_loopback
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AUDIT = {"PAGERLINE_ESCALATION_AUDIT_SECONDS": "1", "PAGERLINE_ESCALATION_OVERDUE_SECONDS": "1"}


@pytest.fixture
def ruled(service, users, receiver, settings, worker_env):
    """The responder is paged by step 1; their rules: the first hook at once, the second
    `later` seconds after the page."""
    allow_loopback(settings, worker_env)  # the workers post to the receiver too
    responder = users["responder"]
    first, second = (
        ContactMethod.objects.create(
            verified_at=timezone.now(), user=responder, kind="webhook", address=receiver.url + n
        )
        for n in ("1", "2")
    )
    service.escalation_policy = make_policy(service.team, (0, [responder]))
    service.save()

    def with_delay(later: int):
        NotificationRule.objects.create(
            user=responder, urgency="high", delay_seconds=0, contact_method=first
        )
        NotificationRule.objects.create(
            user=responder, urgency="high", delay_seconds=later, contact_method=second
        )
        return service

    with_delay.first, with_delay.second = first, second
    return with_delay


def sent(contact_method) -> list[Notification]:
    return list(Notification.objects.filter(contact_method=contact_method, status="sent"))


def test_the_later_step_fires_on_its_eta_task(ruled, make_worker, receiver):
    make_worker()  # no beat: only the ETA task can fire the second step
    incident = make_alert_incident(ruled(2), timezone.now())
    wait_for(lambda: sent(ruled.first), message="the first step was not sent")
    page = PersonalPage.objects.get(incident=incident)
    (second,) = wait_for(lambda: sent(ruled.second), timeout=15, message="step 2 never came")
    lateness = second.created_at - (page.started_at + timedelta(seconds=2))
    assert timedelta(0) <= lateness < timedelta(seconds=2)
    wait_for(lambda: len(receiver.requests) == 2, message="the pages were not delivered")
    page.refresh_from_db()
    assert page.state == "done"


def test_a_killed_worker_mid_page_does_not_lose_the_next_step(ruled, make_worker, receiver):
    first_worker = make_worker(name="first")
    incident = make_alert_incident(ruled(8), timezone.now())
    wait_for(lambda: sent(ruled.first), message="the first step was not sent")
    wait_for(lambda: len(receiver.requests) == 1, message="the first step was not delivered")
    page = PersonalPage.objects.get(incident=incident)
    due = page.next_fire_at
    # The step-2 ETA task dies with this worker (reserved and unacknowledged, the broker
    # would hand it out again only after its visibility timeout, an hour later).
    first_worker.kill()

    second_worker = make_worker("-B", name="second", env=AUDIT)
    (second,) = wait_for(lambda: sent(ruled.second), timeout=30, message="step 2 never fired")
    period = timedelta(seconds=int(AUDIT["PAGERLINE_ESCALATION_AUDIT_SECONDS"]))
    overdue = timedelta(seconds=int(AUDIT["PAGERLINE_ESCALATION_OVERDUE_SECONDS"]))
    assert second.created_at - due <= overdue + period + timedelta(seconds=1.5)
    wait_for(
        lambda: b"auditor re-drove page" in second_worker.log_path.read_bytes(),
        message="step 2 was not fired by the auditor",
    )
    wait_for(lambda: len(receiver.requests) == 2, message="step 2 was not delivered")
    # Give a duplicate every chance to show up: the auditor runs every second.
    time.sleep(3)
    page.refresh_from_db()
    assert page.state == "done"
    assert Notification.objects.filter(contact_method=ruled.second).count() == 1
    assert Notification.objects.count() == 2
    assert len(receiver.requests) == 2
