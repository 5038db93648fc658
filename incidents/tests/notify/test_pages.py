"""A person's notification rules running for an incident (incidents.notify.pages), on a
controlled clock: each step at its delay and once, a repeat page replacing the running one,
acknowledgement and resolution dropping what is left, the fallback for people without
rules, urgency per service, and the auditor for lost ETA tasks."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, Notification, NotificationRule, PersonalPage
from incidents.notify import pages, rules
from incidents.tests.factories import make_policy
from incidents.tests.support import fire
from incidents.timeline import actions, events

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
HOOK = "https://hooks.example.com/pagerline"


@pytest.fixture
def enqueued(monkeypatch):
    """The ETA tasks the pages ask for: [(page id, token, eta)]."""
    sent = []
    monkeypatch.setattr(pages, "_enqueue", lambda *args: sent.append(args))
    return sent


def method(user, kind="email", address=None, **options):
    """A verified contact method (unless `verified_at=None` says otherwise)."""
    options.setdefault("verified_at", timezone.now())
    if kind == "email":
        address = address or f"{user.username}@example.com"
    return ContactMethod.objects.create(user=user, kind=kind, address=address or HOOK, **options)


def rule(user, contact_method, delay_seconds=0, urgency="high"):
    return NotificationRule.objects.create(
        user=user, urgency=urgency, delay_seconds=delay_seconds, contact_method=contact_method
    )


def paged(service, users, *steps, severity="critical", repeat=0):
    """An incident of `severity` whose policy pages `steps` (delay, [users]), fired at T0."""
    service.escalation_policy = make_policy(service.team, *steps, repeat=repeat)
    service.save()
    incident = events.incident_triggered(
        service=service, dedup_key="k", title="Checkout down", severity=severity, at=T0, source="t"
    )
    fire(incident, T0)
    return incident


def advance(page, now):
    """What the page's ETA task does at `now`, with the page's current token."""
    page.refresh_from_db()
    return pages.page_advance(page_id=page.pk, token=page.token, now=now)


def sent_to(user):
    """The addresses paged, oldest first."""
    return list(
        Notification.objects.filter(user=user)
        .order_by("created_at", "id")
        .values_list("contact_method__address", flat=True)
    )


def test_the_steps_fire_in_order_each_at_its_delay(
    service, users, enqueued, django_capture_on_commit_callbacks
):
    responder = users["responder"]
    first, second, third = (method(responder, address=f"{n}@example.com") for n in "abc")
    rule(responder, second, 120)
    rule(responder, first, 0)
    rule(responder, third, 300)
    with django_capture_on_commit_callbacks(execute=True):
        incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident, user=responder)
    assert sent_to(responder) == ["a@example.com"]
    assert enqueued == [(page.pk, page.token, T0 + timedelta(seconds=120))]

    assert advance(page, T0 + timedelta(seconds=60)) == "not_due"
    assert advance(page, T0 + timedelta(seconds=120)) == "fired"
    assert sent_to(responder) == ["a@example.com", "b@example.com"]
    page.refresh_from_db()
    assert page.next_fire_at == T0 + timedelta(seconds=300)
    assert advance(page, T0 + timedelta(seconds=301)) == "done"
    assert sent_to(responder) == ["a@example.com", "b@example.com", "c@example.com"]
    page.refresh_from_db()
    assert (page.state, page.next_fire_at, page.token) == ("done", None, "")
    assert set(Notification.objects.values_list("page_id", flat=True)) == {page.pk}


def test_a_step_with_several_methods_pages_each_of_them_once(service, users):
    responder = users["responder"]
    mail, hook = method(responder), method(responder, "webhook")
    rule(responder, mail, 0)
    rule(responder, hook, 0)
    paged(service, users, (0, [responder]))
    assert sorted(Notification.objects.values_list("channel", flat=True)) == ["email", "webhook"]


def test_a_repeat_page_replaces_the_running_rules_instead_of_doubling_them(service, users):
    responder = users["responder"]
    mail, hook = method(responder), method(responder, "webhook")
    rule(responder, mail, 0)
    rule(responder, hook, 300)
    # Step 2 pages the same person again a minute later (as a repeat of the policy would).
    incident = paged(service, users, (0, [responder]), (60, [responder]))
    page = PersonalPage.objects.get(incident=incident, user=responder)
    stale_token = page.token
    assert fire(incident, T0 + timedelta(seconds=60)) == "exhausted"

    assert PersonalPage.objects.filter(incident=incident).count() == 1
    page.refresh_from_db()
    assert page.started_at == T0 + timedelta(seconds=60)
    assert page.next_fire_at == T0 + timedelta(seconds=360)
    # The first page's ETA task for its 5-minute step finds itself replaced.
    assert (
        pages.page_advance(page_id=page.pk, token=stale_token, now=T0 + timedelta(seconds=300))
        == "stale"
    )
    assert advance(page, T0 + timedelta(seconds=360)) == "done"
    # First step once per page; the 5-minute step once, counted from the newer page.
    assert sorted(Notification.objects.values_list("channel", flat=True)) == [
        "email",
        "email",
        "webhook",
    ]
    webhook = Notification.objects.get(channel="webhook")
    assert webhook.created_at == T0 + timedelta(seconds=360)


def test_a_person_named_twice_in_one_step_is_paged_once(service, users):
    responder = users["responder"]
    method(responder)
    incident = paged(service, users, (0, [responder, responder]))
    assert PersonalPage.objects.filter(incident=incident).count() == 1
    assert Notification.objects.count() == 1


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_acknowledging_or_resolving_drops_the_remaining_steps(service, users, action):
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 120)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    token = page.token
    act = getattr(actions, f"incident_{action}")
    act(incident_id=incident.pk, user=users["manager"], at=T0 + timedelta(seconds=30))

    page.refresh_from_db()
    assert (page.state, page.next_fire_at, page.token) == ("stopped", None, "")
    later = T0 + timedelta(minutes=10)
    assert pages.page_advance(page_id=page.pk, token=token, now=later) == "stale"
    assert pages.pages_audit(now=later) == 0
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


def test_a_page_found_acknowledged_when_its_step_comes_stops_without_sending(service, users):
    """The follower normally stops pages; a task that finds the incident acknowledged stops
    its page too (e.g. an acknowledgement written by something that bypassed followers)."""
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 120)
    incident = paged(service, users, (0, [responder]))
    incident.status = "acknowledged"
    incident.save(update_fields=["status"])
    page = PersonalPage.objects.get(incident=incident)
    assert advance(page, T0 + timedelta(seconds=120)) == "stopped"
    assert Notification.objects.count() == 1


def test_a_person_without_rules_gets_every_verified_method_at_once(service, users):
    responder = users["responder"]
    method(responder, address="one@example.com")
    method(responder, "webhook")
    method(responder, address="unverified@example.com", verified_at=None)
    method(responder, address="off@example.com", enabled=False)
    method(responder, address="handoffs@example.com", notify_escalations=False)
    method(responder, address="stopped@example.com", opted_out_at=T0)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    assert len(page.steps) == 1 and page.steps[0]["delay_seconds"] == 0
    assert page.state == "done"
    assert sorted(sent_to(responder)) == sorted(["one@example.com", HOOK])


def test_rules_naming_a_method_that_cannot_be_paged_are_left_out(service, users):
    responder = users["responder"]
    unverified = method(responder, address="new@example.com", verified_at=None)
    off = method(responder, address="off@example.com", enabled=False)
    good = method(responder, address="good@example.com")
    rule(responder, unverified, 0)
    rule(responder, off, 0)
    rule(responder, good, 60)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    assert page.steps == [{"delay_seconds": 60, "methods": [good.pk]}]
    assert Notification.objects.count() == 0  # nothing at 0: the person chose 1 minute
    assert advance(page, T0 + timedelta(seconds=60)) == "done"
    assert sent_to(responder) == ["good@example.com"]
    # Nobody but the responder was paged, and the escalation counts them as reached.
    assert not incident.events.filter(kind="escalation_warning").exists()


def test_a_method_turned_off_while_the_page_runs_is_passed_over(service, users):
    """A step that can reach nothing any more counts as failed: the next step follows at
    once, as when a delivery fails (pages.page_hurry), rather than leaving a gap."""
    responder = users["responder"]
    soon, later, last = (method(responder, address=f"{n}@example.com") for n in "abc")
    rule(responder, soon, 0)
    rule(responder, later, 60)
    rule(responder, last, 600)
    incident = paged(service, users, (0, [responder]))
    ContactMethod.objects.filter(pk=later.pk).update(enabled=False)
    page = PersonalPage.objects.get(incident=incident)
    assert advance(page, T0 + timedelta(seconds=60)) == "done"
    assert sent_to(responder) == ["a@example.com", "c@example.com"]


def test_a_deactivated_person_is_not_paged_by_their_running_rules(service, users):
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 60)
    incident = paged(service, users, (0, [responder]))
    responder.is_active = False
    responder.save()
    assert advance(PersonalPage.objects.get(incident=incident), T0 + timedelta(minutes=1)) == "done"
    assert list(Notification.objects.values_list("channel", flat=True)) == ["email"]


@pytest.mark.parametrize(
    ("severity", "high_severities", "expected"),
    [
        ("critical", None, "high@example.com"),
        ("error", None, "high@example.com"),
        ("warning", None, "low@example.com"),
        ("info", None, "low@example.com"),
        ("warning", ["critical", "warning"], "high@example.com"),
        ("error", ["critical"], "low@example.com"),
        ("critical", [], "low@example.com"),
    ],
)
def test_the_service_decides_which_severities_page_with_high_urgency(
    service, users, severity, high_severities, expected
):
    responder = users["responder"]
    rule(responder, method(responder, address="high@example.com"), 0, "high")
    rule(responder, method(responder, address="low@example.com"), 0, "low")
    if high_severities is not None:
        service.high_urgency_severities = high_severities
    incident = paged(service, users, (0, [responder]), severity=severity)
    assert sent_to(responder) == [expected]
    assert PersonalPage.objects.get(incident=incident).urgency == (
        "high" if expected.startswith("high") else "low"
    )


def test_an_urgency_without_rules_falls_back_to_every_method(service, users):
    responder = users["responder"]
    rule(responder, method(responder, address="high@example.com"), 300, "high")
    method(responder, "webhook")
    paged(service, users, (0, [responder]), severity="warning")
    assert sorted(sent_to(responder)) == sorted(["high@example.com", HOOK])


def test_a_lost_eta_task_is_fired_by_the_auditor_exactly_once(service, users, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 5
    responder = users["responder"]
    rule(responder, method(responder, address="now@example.com"), 0)
    rule(responder, method(responder, address="later@example.com"), 120)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    lost_token = page.token

    due = T0 + timedelta(seconds=120)
    assert pages.pages_audit(now=due + timedelta(seconds=2)) == 0  # not overdue yet
    assert pages.pages_audit(now=due + timedelta(seconds=6)) == 1
    assert pages.pages_audit(now=due + timedelta(seconds=66)) == 0
    # The ETA task turns up after all (a broker that came back): it does nothing.
    assert (
        pages.page_advance(page_id=page.pk, token=lost_token, now=due + timedelta(seconds=70))
        == "stale"
    )
    assert sent_to(responder) == ["now@example.com", "later@example.com"]


def test_a_repeated_task_does_nothing_the_second_time(service, users):
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 60)
    rule(responder, method(responder, address="x@example.com"), 120)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    token = page.token
    at = T0 + timedelta(seconds=60)
    assert pages.page_advance(page_id=page.pk, token=token, now=at) == "fired"
    assert pages.page_advance(page_id=page.pk, token=token, now=at) == "stale"
    assert pages.page_advance(page_id=page.pk, token=token, now=at + timedelta(hours=1)) == "stale"
    assert Notification.objects.count() == 2
    assert pages.page_advance(page_id=10**9, token=token, now=at) == "gone"


def test_a_failed_delivery_hurries_the_next_step(service, users, enqueued):
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 300)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    at = T0 + timedelta(seconds=20)
    assert pages.page_hurry(page_id=page.pk, now=at)
    assert advance(page, at) == "done"
    assert Notification.objects.filter(channel="webhook").get().created_at == at
    assert not pages.page_hurry(page_id=page.pk, now=at)  # nothing left to hurry


# --- the pure part ----------------------------------------------------------------------------


def test_steps_group_rules_by_delay_in_order():
    found = rules.steps([rules.Rule(300, 9), rules.Rule(0, 4), rules.Rule(0, 2), rules.Rule(0, 4)])
    assert found == [
        {"delay_seconds": 0, "methods": [2, 4]},
        {"delay_seconds": 300, "methods": [9]},
    ]
    assert rules.steps([], fallback_method_ids=[5, 3, 5]) == [
        {"delay_seconds": 0, "methods": [3, 5]}
    ]
    assert rules.steps([], fallback_method_ids=[]) == []
    assert rules.urgency("error", ["critical", "error"]) == "high"
    assert rules.urgency("warning", ["critical", "error"]) == "low"


def test_only_a_failure_of_the_last_step_hurries_the_next(service, users):
    responder = users["responder"]
    for n, delay in enumerate((0, 60, 600)):
        rule(responder, method(responder, address=f"{n}@example.com"), delay)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    first = Notification.objects.get()
    assert advance(page, T0 + timedelta(seconds=60)) == "fired"
    # Step 1's failure is reported after step 2 went out: step 3 keeps its time.
    assert not pages.page_hurry(
        page_id=page.pk, notification_id=first.pk, now=T0 + timedelta(seconds=90)
    )
    second = Notification.objects.get(contact_method__address="1@example.com")
    assert pages.page_hurry(
        page_id=page.pk, notification_id=second.pk, now=T0 + timedelta(seconds=95)
    )
    page.refresh_from_db()
    assert page.next_fire_at == T0 + timedelta(seconds=95)


def test_a_failed_retry_counts_as_its_step(service, users):
    from incidents.notify import sending

    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 600)
    incident = paged(service, users, (0, [responder]))
    page = PersonalPage.objects.get(incident=incident)
    first = Notification.objects.get()
    retry = sending._retry(
        row=first, at=T0 + timedelta(seconds=30), attempt=2, now=T0 + timedelta(seconds=1)
    )
    assert retry.page_id == page.pk
    assert pages.page_hurry(
        page_id=page.pk, notification_id=retry.pk, now=T0 + timedelta(seconds=40)
    )


def test_a_failure_from_a_replaced_run_hurries_nothing(service, users):
    responder = users["responder"]
    rule(responder, method(responder), 0)
    rule(responder, method(responder, "webhook"), 600)
    incident = paged(service, users, (0, [responder]), (60, [responder]))
    old = Notification.objects.get()
    fire(incident, T0 + timedelta(seconds=60))
    page = PersonalPage.objects.get(incident=incident)
    assert not pages.page_hurry(
        page_id=page.pk, notification_id=old.pk, now=T0 + timedelta(seconds=70)
    )
