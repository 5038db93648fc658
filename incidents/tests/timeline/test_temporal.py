"""The incident as it stood at a past moment: replay of the events that had happened by then."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.models import Incident
from incidents.timeline import actions, projection, selectors

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def history(service, users):
    """Opened at T0, acknowledged +2, assigned +3, severity +4, resolved +10, reopened +15."""
    incident = actions.incident_create(
        service=service, title="Checkout down", severity="error", user=users["manager"], at=T0
    )
    who = {"incident_id": incident.pk, "user": users["responder"]}
    actions.incident_acknowledge(**who, at=minutes(2))
    actions.incident_assign(**who, assignee_id=users["responder"].pk, at=minutes(3))
    actions.incident_set_severity(**who, severity="critical", at=minutes(4))
    actions.incident_resolve(**who, at=minutes(10))
    actions.incident_reopen(**who, at=minutes(15))
    return Incident.objects.get(pk=incident.pk)


def test_it_replays_up_to_the_moment(history, users):
    assert selectors.incident_state_at(history, T0 - timedelta(seconds=1)) is None
    at_open = selectors.incident_state_at(history, T0)
    assert (at_open.status, at_open.severity, at_open.last_seq) == ("triggered", "error", 1)
    mid = selectors.incident_state_at(history, minutes(5))
    assert (mid.status, mid.severity, mid.assignee_id) == (
        "acknowledged",
        "critical",
        users["responder"].pk,
    )
    assert mid.acknowledged_at == minutes(2) and mid.resolved_at is None
    resolved = selectors.incident_state_at(history, minutes(12))
    assert (resolved.status, resolved.resolved_at) == ("resolved", minutes(10))
    assert selectors.incident_state_at(history, minutes(60)) == projection.state_of(history)


def test_the_cut_is_on_when_it_happened_not_when_it_was_written(service, users):
    """A backdated action (a source reporting an old acknowledgement, `at=` in the past)
    counts from when it happened, although its row was written later."""
    incident = actions.incident_create(
        service=service, title="Queue backlog", severity="error", user=users["manager"], at=T0
    )
    actions.incident_acknowledge(incident_id=incident.pk, actor_label="pagerduty", at=minutes(1))
    event = incident.events.get(kind="acknowledged")
    assert event.recorded_at > minutes(1)  # written now, happened at +1 min
    state = selectors.incident_state_at(incident, minutes(1))
    assert state.status == "acknowledged"


def test_the_api_answers_at_a_time(client, users, history):
    client.force_login(users["viewer"])
    url = f"/api/v1/incidents/{history.pk}/"
    past = client.get(url, {"at": "2026-11-26T10:05:00Z"})
    assert past.status_code == 200
    body = past.json()
    assert body["status"] == "acknowledged" and body["severity"] == "critical"
    assert body["assignee"] == {"id": users["responder"].pk, "username": "responder"}
    assert body["as_of"] == "2026-11-26T10:05:00Z"
    assert body["resolved_at"] is None and body["last_seq"] == 4
    offset = client.get(url, {"at": "2026-11-26T11:12:00+01:00"}).json()
    assert offset["status"] == "resolved"
    now = client.get(url).json()
    assert now["status"] == "triggered" and "as_of" not in now


@pytest.mark.parametrize("value", ["", "yesterday", "2026-13-01T00:00:00Z"])
def test_a_bad_time_is_a_400_naming_the_parameter(client, users, history, value):
    client.force_login(users["viewer"])
    response = client.get(f"/api/v1/incidents/{history.pk}/", {"at": value})
    assert response.status_code == 400
    assert "at" in response.json()


def test_before_detection_there_is_nothing(client, users, history):
    client.force_login(users["viewer"])
    response = client.get(f"/api/v1/incidents/{history.pk}/", {"at": "2026-11-26T09:00:00Z"})
    assert response.status_code == 404
    assert "not been detected yet" in response.json()["detail"]


def test_outsiders_cannot_look_back_either(client, users, history):
    client.force_login(users["outsider"])
    response = client.get(f"/api/v1/incidents/{history.pk}/", {"at": "2026-11-26T10:05:00Z"})
    assert response.status_code == 404
