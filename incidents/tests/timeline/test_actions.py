"""Responder actions, called as the views, the API and source events call them."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.errors import FieldErrors
from incidents.alerts import AlertEvent, AlertStatus
from incidents.intake import apply
from incidents.models import EventKind, Incident, IncidentStatus
from incidents.timeline import actions, projection, selectors
from oncall.tests.factories import make_user

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def alert(key: str = "group-1", status=AlertStatus.FIRING) -> AlertEvent:
    return AlertEvent(
        source="alertmanager",
        incident_key=key,
        fingerprint=f"fp-{key}",
        status=status,
        title=f"{key} is failing",
        severity="critical",
        starts_at=minutes(-4),
    )


@pytest.fixture
def incident(integration):
    record, _ = integration
    apply.alerts_apply(integration=record, alert_events=[alert()], received_at=T0)
    return Incident.objects.get()


def last_event(incident):
    return incident.events.order_by("-seq").first()


def assert_row_matches_events(incident):
    incident.refresh_from_db()
    assert selectors.incident_replayed(incident) == projection.state_of(incident)


def test_it_acknowledges_once(incident, users):
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"], at=minutes(2))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.acknowledged_at == minutes(2)
    event = last_event(incident)
    assert (event.kind, event.actor, event.at) == ("acknowledged", users["responder"], minutes(2))
    with pytest.raises(actions.InvalidTransition, match="already acknowledged"):
        actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
    assert incident.events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1
    assert_row_matches_events(incident)


def test_it_withdraws_an_acknowledgement(incident, users):
    with pytest.raises(actions.InvalidTransition, match="not acknowledged"):
        actions.incident_unacknowledge(incident_id=incident.pk, user=users["responder"])
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"], at=minutes(2))
    actions.incident_unacknowledge(incident_id=incident.pk, user=users["responder"], at=minutes(3))
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.acknowledged_at is None
    assert last_event(incident).kind == "unacknowledged"
    assert_row_matches_events(incident)


def test_it_resolves_and_refuses_to_resolve_twice(incident, users):
    actions.incident_resolve(
        incident_id=incident.pk, user=users["responder"], reason="rolled back", at=minutes(9)
    )
    incident.refresh_from_db()
    assert (incident.status, incident.resolved_at) == ("resolved", minutes(9))
    assert last_event(incident).data == {"reason": "rolled back", "via": "web"}
    with pytest.raises(actions.InvalidTransition, match="already resolved"):
        actions.incident_resolve(incident_id=incident.pk, user=users["responder"])
    with pytest.raises(actions.InvalidTransition, match="reopen it first"):
        actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])


def test_it_reopens_only_a_resolved_incident(incident, users):
    with pytest.raises(actions.InvalidTransition, match="triggered, not resolved"):
        actions.incident_reopen(incident_id=incident.pk, user=users["responder"])
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"], at=minutes(1))
    actions.incident_resolve(incident_id=incident.pk, user=users["responder"], at=minutes(5))
    actions.incident_reopen(
        incident_id=incident.pk, user=users["manager"], reason="still failing", at=minutes(8)
    )
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.resolved_at is None
    assert incident.acknowledged_at == minutes(1)
    assert last_event(incident).data == {"reason": "still failing"}
    assert_row_matches_events(incident)


def test_it_will_not_reopen_when_the_same_alert_group_opened_again(incident, integration, users):
    record, _ = integration
    actions.incident_resolve(incident_id=incident.pk, user=users["responder"], at=minutes(5))
    apply.alerts_apply(integration=record, alert_events=[alert()], received_at=minutes(90))
    newer = Incident.objects.exclude(pk=incident.pk).get()
    with pytest.raises(actions.InvalidTransition, match=f"incident #{newer.pk} is open"):
        actions.incident_reopen(incident_id=incident.pk, user=users["responder"])
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED


def test_a_note_keeps_its_markdown_source_in_any_state(incident, users):
    actions.incident_resolve(incident_id=incident.pk, user=users["responder"])
    text = "Root cause: **bad deploy**\n\n<script>alert(1)</script>"
    event = actions.incident_add_note(incident_id=incident.pk, user=users["responder"], text=text)
    assert (event.kind, event.data["text"], event.actor) == ("note", text, users["responder"])
    with pytest.raises(FieldErrors) as empty:
        actions.incident_add_note(incident_id=incident.pk, user=users["responder"], text="  \n")
    assert list(empty.value.errors) == ["text"]
    with pytest.raises(FieldErrors, match="at most 20000"):
        actions.incident_add_note(
            incident_id=incident.pk, user=users["responder"], text="x" * 20_001
        )


def test_it_changes_severity(incident, users):
    actions.incident_set_severity(
        incident_id=incident.pk, user=users["responder"], severity="warning"
    )
    incident.refresh_from_db()
    assert incident.severity == "warning"
    assert last_event(incident).data == {"from": "critical", "to": "warning"}
    with pytest.raises(actions.InvalidTransition, match="already warning"):
        actions.incident_set_severity(
            incident_id=incident.pk, user=users["responder"], severity="warning"
        )
    with pytest.raises(FieldErrors) as bad:
        actions.incident_set_severity(
            incident_id=incident.pk, user=users["responder"], severity="apocalyptic"
        )
    assert list(bad.value.errors) == ["severity"]
    assert "critical, error, warning, info" in bad.value.errors["severity"][0]
    assert_row_matches_events(incident)


def test_it_assigns_only_responders_of_the_team(incident, users):
    actions.incident_assign(
        incident_id=incident.pk, user=users["manager"], assignee_id=users["responder"].pk
    )
    incident.refresh_from_db()
    assert incident.assignee == users["responder"]
    assert last_event(incident).data["assignee"] == "responder"
    actions.incident_assign(
        incident_id=incident.pk, user=users["responder"], assignee_id=users["manager"].pk
    )
    incident.refresh_from_db()
    assert incident.assignee == users["manager"]
    for not_allowed in (users["viewer"].pk, users["outsider"].pk, 999_999):
        with pytest.raises(FieldErrors, match="responder or manager of Payments") as e:
            actions.incident_assign(
                incident_id=incident.pk, user=users["manager"], assignee_id=not_allowed
            )
        assert list(e.value.errors) == ["assignee"]
    with pytest.raises(actions.InvalidTransition, match="already assigned to manager"):
        actions.incident_assign(
            incident_id=incident.pk, user=users["manager"], assignee_id=users["manager"].pk
        )
    actions.incident_assign(incident_id=incident.pk, user=users["manager"], assignee_id=None)
    incident.refresh_from_db()
    assert incident.assignee is None
    assert_row_matches_events(incident)


def test_a_resolved_incident_is_not_assigned(incident, users):
    actions.incident_resolve(incident_id=incident.pk, user=users["responder"])
    with pytest.raises(actions.InvalidTransition, match="reopen it to assign"):
        actions.incident_assign(
            incident_id=incident.pk, user=users["manager"], assignee_id=users["responder"].pk
        )


def test_it_corrects_the_impact_start_with_a_reason(incident, users):
    assert incident.impact_started_at == minutes(-4)
    actions.incident_correct_impact_start(
        incident_id=incident.pk,
        user=users["responder"],
        impact_started_at=minutes(-30),
        reason="errors began at 09:30 in the logs",
        at=minutes(20),
    )
    incident.refresh_from_db()
    assert incident.impact_corrected_at == minutes(-30)
    assert incident.impact_started_at == minutes(-30)
    data = last_event(incident).data
    assert data["previous"] == minutes(-4).isoformat()
    assert data["reason"] == "errors began at 09:30 in the logs"
    assert_row_matches_events(incident)


def test_the_impact_start_may_follow_detection_but_not_now(incident, users):
    actions.incident_correct_impact_start(
        incident_id=incident.pk,
        user=users["responder"],
        impact_started_at=minutes(3),
        reason="the alert fired before customers noticed",
        at=minutes(20),
    )
    incident.refresh_from_db()
    assert incident.impact_started_at == minutes(3)
    with pytest.raises(FieldErrors, match="cannot be in the future") as future:
        actions.incident_correct_impact_start(
            incident_id=incident.pk,
            user=users["responder"],
            impact_started_at=minutes(21),
            reason="typo",
            at=minutes(20),
        )
    assert list(future.value.errors) == ["impact_started_at"]
    with pytest.raises(FieldErrors) as no_reason:
        actions.incident_correct_impact_start(
            incident_id=incident.pk, user=users["responder"], impact_started_at=T0, reason=" "
        )
    assert list(no_reason.value.errors) == ["reason"]
    with pytest.raises(FieldErrors, match="time zone"):
        actions.incident_correct_impact_start(
            incident_id=incident.pk,
            user=users["responder"],
            impact_started_at=datetime(2026, 11, 26, 9, 0),
            reason="naive",
        )


def test_it_opens_an_incident_by_hand(service, users):
    incident = actions.incident_create(
        service=service,
        title="  Card payments fail for some banks ",
        severity="error",
        description="Reported by **support**",
        impact_started_at=minutes(-15),
        user=users["responder"],
        at=T0,
    )
    assert incident.status == IncidentStatus.TRIGGERED
    assert incident.title == "Card payments fail for some banks"
    assert incident.detected_at == T0
    assert incident.impact_started_at == minutes(-15)
    assert incident.description == "Reported by **support**"
    assert incident.dedup_key.startswith("manual:")
    event = incident.events.get()
    assert (event.kind, event.actor, event.actor_label) == ("triggered", users["responder"], "")
    second = actions.incident_create(
        service=service, title="Another", severity="info", user=users["manager"]
    )
    assert second.dedup_key != incident.dedup_key
    assert_row_matches_events(incident)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": "x" * 1001}, "title"),
        ({"severity": "meh"}, "severity"),
        ({"impact_started_at": T0 + timedelta(days=1)}, "impact_started_at"),
        ({"description": "x" * 20_001}, "description"),
    ],
)
def test_a_manual_incident_names_the_bad_field(service, users, changes, field):
    values = {"title": "Checkout slow", "severity": "warning", **changes}
    with pytest.raises(FieldErrors) as error:
        actions.incident_create(service=service, user=users["responder"], at=T0, **values)
    assert list(error.value.errors) == [field]
    assert not Incident.objects.exists()


ACTIONS = {
    "acknowledge": (actions.incident_acknowledge, {}),
    "unacknowledge": (actions.incident_unacknowledge, {}),
    "resolve": (actions.incident_resolve, {}),
    "reopen": (actions.incident_reopen, {}),
    "note": (actions.incident_add_note, {"text": "hi"}),
    "severity": (actions.incident_set_severity, {"severity": "info"}),
    "assign": (actions.incident_assign, {"assignee_id": None}),
    "impact-start": (
        actions.incident_correct_impact_start,
        {"impact_started_at": T0, "reason": "r"},
    ),
}


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("who", ["viewer", "outsider"])
def test_only_responders_and_managers_act(incident, users, action, who):
    function, arguments = ACTIONS[action]
    with pytest.raises(PermissionDenied):
        function(incident_id=incident.pk, user=users[who], **arguments)
    assert incident.events.count() == 2
    with pytest.raises(PermissionDenied):
        actions.incident_create(
            service=incident.service, title="t", severity="info", user=users[who]
        )


def test_staff_may_act_anywhere(incident):
    admin = make_user("admin", is_staff=True)
    actions.incident_acknowledge(incident_id=incident.pk, user=admin)
    assert last_event(incident).actor == admin


def test_a_source_acts_under_its_own_name_and_time(incident):
    actions.incident_acknowledge(incident_id=incident.pk, actor_label="pagerduty", at=minutes(3))
    event = last_event(incident)
    assert (event.actor, event.actor_label, event.at) == (None, "pagerduty", minutes(3))
    actions.incident_resolve(incident_id=incident.pk, at=minutes(4))
    event = last_event(incident)
    assert (event.actor, event.actor_label) == (None, "system")


def test_a_caller_holding_the_lock_keeps_its_instance_current(incident, users):
    """Intake folds a PagerDuty acknowledge into the incident it has locked and saves it
    afterwards: the action must update that very instance."""
    with transaction.atomic():
        locked = Incident.objects.select_for_update().get(pk=incident.pk)
        result = actions.incident_acknowledge(
            incident=locked, actor_label="pagerduty", at=minutes(1)
        )
        assert result is locked
        assert locked.status == IncidentStatus.ACKNOWLEDGED and locked.last_seq == 3
        locked.save()
    assert_row_matches_events(incident)
    assert incident.status == IncidentStatus.ACKNOWLEDGED
