"""Escalation through the service layer, with explicit times (the worker runs the same code)."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.escalation import runs
from incidents.escalation import selectors as escalation_selectors
from incidents.models import (
    EscalationStep,
    EscalationTarget,
    IncidentEscalation,
    Notification,
)
from incidents.tests.factories import make_alert_incident, make_contact_method, make_policy
from incidents.tests.support import fire, timeline
from incidents.timeline import actions, selectors

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def people(users):
    for name in ("manager", "responder"):
        make_contact_method(users[name])
    return users


@pytest.fixture
def policy(service, people):
    policy = make_policy(
        service.team,
        (0, [people["responder"]]),
        (300, [people["manager"]]),
        fallback=people["manager"],
    )
    service.escalation_policy = policy
    service.save()
    return policy


def paged(incident) -> list[tuple[str, str]]:
    return [
        (n.user.username, n.reason)
        for n in Notification.objects.filter(incident=incident).select_related("user")
    ]


def test_it_pages_each_step_in_order_and_says_so_on_the_timeline(service, policy):
    incident = make_alert_incident(service, T0)
    state = IncidentEscalation.objects.get(incident=incident)
    assert (state.state, state.next_fire_at) == ("active", T0)

    assert fire(incident, T0) == "fired"
    assert paged(incident) == [("responder", "escalation")]
    state.refresh_from_db()
    assert state.next_fire_at == T0 + timedelta(seconds=300)

    assert fire(incident, T0 + timedelta(seconds=300)) == "exhausted"
    assert paged(incident) == [("responder", "escalation"), ("manager", "escalation")]
    assert timeline(incident) == [
        "escalated to step 1 of 2: responder",
        "escalated to step 2 of 2: manager",
        "every step has been paged and nobody acknowledged: escalation stopped",
    ]
    assert IncidentEscalation.objects.get(incident=incident).state == "exhausted"


def test_a_step_is_not_fired_before_it_is_due(service, policy):
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    assert fire(incident, T0 + timedelta(seconds=100)) == "not_due"
    assert len(paged(incident)) == 1


def test_a_repeated_or_stale_task_never_pages_twice(service, policy):
    incident = make_alert_incident(service, T0)
    state = IncidentEscalation.objects.get(incident=incident)
    first_token = state.token
    assert runs.escalation_advance(escalation_id=state.pk, token=first_token, now=T0) == "fired"
    # The same ETA message delivered again (acks_late redelivery), even much later.
    later = T0 + timedelta(seconds=400)
    assert runs.escalation_advance(escalation_id=state.pk, token=first_token, now=later) == (
        "stale"
    )
    assert paged(incident) == [("responder", "escalation")]


def test_the_auditor_fires_an_overdue_step_exactly_once(service, policy, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 5
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    token = IncidentEscalation.objects.get(incident=incident).token
    due = T0 + timedelta(seconds=300)
    assert runs.escalations_audit(now=due + timedelta(seconds=2)) == 0  # not overdue yet
    assert runs.escalations_audit(now=due + timedelta(seconds=6)) == 1
    # The late ETA task for the same firing, and a second auditor run, do nothing.
    state = IncidentEscalation.objects.get(incident=incident)
    assert runs.escalation_advance(escalation_id=state.pk, token=token, now=due) == "stale"
    assert runs.escalations_audit(now=due + timedelta(seconds=60)) == 0
    assert [name for name, _ in paged(incident)] == ["responder", "manager"]


def test_one_failing_escalation_does_not_stop_the_auditor_firing_the_others(
    service, policy, settings, monkeypatch
):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 5
    broken, healthy = (
        make_alert_incident(service, T0, key="broken"),
        make_alert_incident(service, T0, key="healthy"),
    )
    real_fire = runs._fire

    def fire_unless_broken(*, incident, **kwargs):
        if incident.pk == broken.pk:
            raise RuntimeError("a bug in one escalation")
        return real_fire(incident=incident, **kwargs)

    monkeypatch.setattr(runs, "_fire", fire_unless_broken)
    assert runs.escalations_audit(now=T0 + timedelta(seconds=6)) == 1
    assert [name for name, _ in paged(healthy)] == ["responder"]
    assert paged(broken) == []


def test_acknowledging_stops_and_withdrawing_restarts_the_escalation(service, policy, people):
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    actions.incident_acknowledge(incident_id=incident.pk, user=people["responder"], at=T0)
    state = IncidentEscalation.objects.get(incident=incident)
    assert (state.state, state.next_fire_at, state.token) == ("stopped", None, "")
    assert fire(incident, T0 + timedelta(hours=1)) == "stale"

    restart = T0 + timedelta(minutes=10)
    actions.incident_unacknowledge(incident_id=incident.pk, user=people["responder"], at=restart)
    state.refresh_from_db()
    assert (state.state, state.step_index, state.next_fire_at) == ("active", 0, restart)
    fire(incident, restart)
    assert [name for name, _ in paged(incident)] == ["responder", "responder"]


def test_resolving_stops_and_reopening_restarts_the_escalation(service, policy, people):
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    actions.incident_resolve(incident_id=incident.pk, user=people["responder"], at=T0)
    assert IncidentEscalation.objects.get(incident=incident).state == "stopped"
    actions.incident_reopen(
        incident_id=incident.pk, user=people["responder"], at=T0 + timedelta(minutes=1)
    )
    assert IncidentEscalation.objects.get(incident=incident).state == "active"
    assert fire(incident, T0 + timedelta(minutes=1)) == "fired"


def test_later_policy_edits_do_not_change_a_running_escalation(service, policy, people, users):
    incident = make_alert_incident(service, T0)
    # Someone rewires the policy while the incident is open.
    step = EscalationStep.objects.get(policy=policy, position=0)
    EscalationTarget.objects.filter(step=step).update(user=users["viewer"])
    policy.steps.filter(position=1).delete()
    fire(incident, T0)
    assert fire(incident, T0 + timedelta(seconds=300)) == "exhausted"
    assert [name for name, _ in paged(incident)] == ["responder", "manager"]
    # A new incident takes the policy as it is now.
    other = make_alert_incident(service, T0, key="k2")
    assert fire(other, T0) == "exhausted"
    assert timeline(other, "escalated") == ["escalated to step 1 of 1: viewer"]


def test_a_step_that_reaches_nobody_pages_the_fallback_and_warns(service, people, users):
    # The viewer has no contact method: the step resolves to a person nobody can reach.
    service.escalation_policy = make_policy(
        service.team, (0, [users["viewer"]]), fallback=people["manager"]
    )
    service.save()
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    assert paged(incident) == [("manager", "fallback")]
    assert timeline(incident, "escalation_warning") == [
        "step 1 of 1 reached nobody (viewer has no contact method for escalations); "
        "fallback manager paged"
    ]
    warnings = escalation_selectors.escalation_warnings(people["manager"])
    assert [w.incident.pk for w in warnings] == [incident.pk]
    assert "fallback manager paged" in warnings[0].summary
    assert escalation_selectors.escalation_warnings(users["outsider"]) == []


def test_without_a_fallback_the_warning_says_nobody_was_paged(service, users):
    service.escalation_policy = make_policy(service.team, (0, [users["viewer"]]))
    service.save()
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    assert paged(incident) == []
    assert "no fallback could be paged" in timeline(incident, "escalation_warning")[0]


def test_a_schedule_target_pages_whoever_oncall_selectors_says(service, people, monkeypatch):
    from oncall import selectors as oncall_selectors

    asked = []

    def oncall_users(*, schedule_id, at):
        asked.append((schedule_id, at))
        return [people["responder"]]

    monkeypatch.setattr(oncall_selectors, "oncall_users", oncall_users)
    service.escalation_policy = make_policy(service.team, (0, [("schedule", 42)]))
    service.save()
    incident = make_alert_incident(service, T0)
    fire(incident, T0 + timedelta(seconds=3))
    assert asked == [(42, T0 + timedelta(seconds=3))]
    assert paged(incident) == [("responder", "escalation")]


def test_a_schedule_resolves_to_nobody_when_oncall_cannot_say(service, people, monkeypatch):
    from oncall import selectors as oncall_selectors

    monkeypatch.delattr(oncall_selectors, "oncall_users")
    service.escalation_policy = make_policy(
        service.team, (0, [("schedule", 42)]), fallback=people["manager"]
    )
    service.save()
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    assert paged(incident) == [("manager", "fallback")]
    assert "schedule 42 has nobody on call" in timeline(incident, "escalation_warning")[0]


def test_repeat_runs_the_chain_again_before_giving_up(service, people):
    service.escalation_policy = make_policy(service.team, (60, [people["responder"]]), repeat=2)
    service.save()
    incident = make_alert_incident(service, T0)
    outcomes = [fire(incident, T0 + timedelta(seconds=60 * n)) for n in (1, 2, 3)]
    assert outcomes == ["fired", "fired", "exhausted"]
    assert timeline(incident, "escalated") == [
        "escalated to step 1 of 1, round 1 of 3: responder",
        "escalated to step 1 of 1, round 2 of 3: responder",
        "escalated to step 1 of 1, round 3 of 3: responder",
    ]


def test_a_service_without_a_policy_pages_nobody_but_the_dashboard_says_so(service, users):
    incident = make_alert_incident(service, T0)
    assert not IncidentEscalation.objects.filter(incident=incident).exists()
    warnings = escalation_selectors.escalation_warnings(users["viewer"])
    assert [(w.incident.pk, w.summary) for w in warnings] == [
        (incident.pk, "Checkout has no escalation policy: nobody is paged")
    ]


def test_the_timeline_still_replays_to_the_incident_row(service, policy):
    incident = make_alert_incident(service, T0)
    fire(incident, T0)
    fire(incident, T0 + timedelta(seconds=300))
    incident.refresh_from_db()
    replayed = selectors.incident_replayed(incident)
    assert replayed.last_seq == incident.last_seq
    assert replayed.status == incident.status == "triggered"
