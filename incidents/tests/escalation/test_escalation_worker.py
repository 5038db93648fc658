"""Escalation with a real Celery worker: ETA tasks fire the steps, and when a worker is
killed mid-escalation, beat's auditor fires the next step on time anyway."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, IncidentEscalation, IncidentEvent, Notification
from incidents.tests.notify_support import allow_loopback, running_receiver
from incidents.tests.paging_support import make_policy, trigger
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

AUDIT = {"PAGERLINE_ESCALATION_AUDIT_SECONDS": "1", "PAGERLINE_ESCALATION_OVERDUE_SECONDS": "1"}


@pytest.fixture
def receiver(settings, worker_env):
    allow_loopback(settings, worker_env)
    yield from running_receiver()


@pytest.fixture
def paged_service(service, users, receiver):
    for name in ("responder", "manager"):
        ContactMethod.objects.create(
            verified_at=timezone.now(), user=users[name], kind="webhook", address=receiver.url
        )

    def with_policy(second_step_delay: int):
        service.escalation_policy = make_policy(
            service.team, (0, [users["responder"]]), (second_step_delay, [users["manager"]])
        )
        service.save()
        return service

    return with_policy


def escalated(incident, step: int) -> IncidentEvent | None:
    return IncidentEvent.objects.filter(
        incident=incident, kind="escalated", data__step=step
    ).first()


def test_steps_fire_on_their_eta_tasks(paged_service, make_worker, receiver):
    make_worker()  # no beat: only the ETA tasks can fire the steps
    incident = trigger(paged_service(2), timezone.now())
    first = wait_for(lambda: escalated(incident, 1), message="step 1 did not fire")
    second = wait_for(lambda: escalated(incident, 2), timeout=15, message="step 2 did not fire")
    lateness = second.at - (first.at + timedelta(seconds=2))
    assert timedelta(0) <= lateness < timedelta(seconds=2)
    wait_for(lambda: len(receiver.requests) == 2, message="the pages were not delivered")
    wait_for(
        lambda: set(Notification.objects.values_list("status", flat=True)) == {"sent"},
        message="the deliveries were not recorded as sent",
    )


def test_a_killed_worker_does_not_delay_the_next_step_past_the_auditor_period(
    paged_service, make_worker, receiver
):
    first_worker = make_worker(name="first")
    incident = trigger(paged_service(8), timezone.now())
    wait_for(lambda: escalated(incident, 1), message="step 1 did not fire")
    wait_for(lambda: len(receiver.requests) == 1, message="step 1 was not delivered")
    due = IncidentEscalation.objects.get(incident=incident).next_fire_at
    # The step-2 ETA task dies with this worker (unacknowledged, it would only come back
    # after the broker's visibility timeout, an hour later).
    first_worker.kill()

    second_worker = make_worker("-B", name="second", env=AUDIT)
    second = wait_for(lambda: escalated(incident, 2), timeout=30, message="step 2 never fired")
    period = timedelta(seconds=int(AUDIT["PAGERLINE_ESCALATION_AUDIT_SECONDS"]))
    overdue = timedelta(seconds=int(AUDIT["PAGERLINE_ESCALATION_OVERDUE_SECONDS"]))
    assert second.at - due <= overdue + period + timedelta(seconds=1.5)
    wait_for(
        lambda: b"auditor re-drove escalation" in second_worker.log_path.read_bytes(),
        message="step 2 was not fired by the auditor",
    )
    wait_for(lambda: len(receiver.requests) == 2, message="step 2 was not delivered")
    # Exactly one page per step, whoever fired it.
    assert IncidentEvent.objects.filter(incident=incident, kind="escalated").count() == 2
    assert Notification.objects.count() == 2


def test_a_storm_of_new_incidents_pages_each_of_them_from_one_batch(
    paged_service, integration, make_worker, receiver
):
    """The deliveries are applied as one batch: its immediate first steps go out as one
    message (incidents.escalate_many), the later steps as ETA tasks, and every incident is
    paged at both steps."""
    import json

    from incidents.intake import store
    from incidents.models import Incident
    from tests.support import am_alert, am_payload

    paged_service(2)
    record, _ = integration
    for n in range(5):
        body = am_payload(am_alert(fingerprint=f"fp-{n}"), group_key=f"group-{n}")
        store.delivery_accept(integration=record, body=json.dumps(body), received_at=timezone.now())
    make_worker()  # started after the deliveries were stored: it claims them together
    wait_for(lambda: Incident.objects.count() == 5, message="the batch was not applied")
    for incident in Incident.objects.all():
        wait_for(lambda i=incident: escalated(i, 1), message=f"#{incident.pk} step 1")
        wait_for(lambda i=incident: escalated(i, 2), timeout=15, message=f"#{incident.pk} step 2")
    assert Notification.objects.filter(user__username="responder").count() == 5
    assert Notification.objects.filter(user__username="manager").count() == 5
