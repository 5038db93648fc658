"""A message that fails for good (the endpoint refuses it: a bad address) moves the person's
page on to their next rule step at once, instead of after the step's delay."""

from datetime import UTC, datetime

import pytest

from incidents.models import ContactMethod, NotificationRule, PersonalPage
from incidents.notify import pages, sending
from incidents.tests.factories import make_alert_incident

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_a_permanent_failure_hurries_the_next_step(service, users, receiver):
    person = users["responder"]
    hook = ContactMethod.objects.create(
        user=person, kind="webhook", address=receiver.url, verified_at=T0
    )
    mail = ContactMethod.objects.create(
        user=person, kind="email", address="r@example.com", verified_at=T0
    )
    NotificationRule.objects.create(
        user=person, urgency="high", delay_seconds=0, contact_method=hook
    )
    NotificationRule.objects.create(
        user=person, urgency="high", delay_seconds=600, contact_method=mail
    )
    incident = make_alert_incident(service, T0)  # critical: high urgency
    assert pages.users_page(
        users=[person], incident=incident, reason="escalation", why="step 1", at=T0
    ) == {person.pk}
    page = PersonalPage.objects.get()
    assert page.next_fire_at == T0.replace(minute=10)

    receiver.default = 404  # the endpoint says the address is wrong: no retry will help
    (row,) = page.notifications.all()
    later = T0.replace(second=20)
    assert sending.notification_send(notification_id=row.pk, now=later) == "failed"
    page.refresh_from_db()
    assert page.next_fire_at <= later.replace(second=21)  # not at 10:10 any more

    receiver.default = 503  # a transient failure is retried; the page keeps its delay
    other = make_alert_incident(service, T0, key="k2")
    pages.users_page(users=[person], incident=other, reason="escalation", why="x", at=T0)
    page = PersonalPage.objects.get(incident=other)
    (row,) = page.notifications.all()
    assert sending.notification_send(notification_id=row.pk, now=later) == "failed"
    assert row.retries.exists()
    page.refresh_from_db()
    assert page.next_fire_at == T0.replace(minute=10)
