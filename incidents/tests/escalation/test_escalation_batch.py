"""A batch of firings (escalate_many, the auditor) asks who is on call once per schedule
for as long as the answer holds (runs.Memo), and pages whom asking at each instant would:
across a handoff and an override that starts during the batch."""

from datetime import UTC, datetime, timedelta

import pytest

from incidents.escalation import runs
from incidents.models import IncidentEscalation, Notification
from incidents.tests.factories import make_alert_incident, make_contact_method, make_policy
from oncall import selectors as oncall_selectors
from oncall import services as oncall

pytestmark = pytest.mark.django_db

# A daily rotation of responder then manager from 2026-11-25 09:00 UTC: the manager
# takes over at HANDOFF.
HANDOFF = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def rota(service, users):
    for name in ("manager", "responder"):
        make_contact_method(users[name])
    schedule = oncall.schedule_create(
        team=service.team,
        name="Rota",
        time_zone="UTC",
        layers=[
            oncall.LayerSpec(
                name="Primary",
                participants=(users["responder"], users["manager"]),
                unit="days",
                every=1,
                handoff_start=datetime(2026, 11, 25, 9, 0),
            )
        ],
    )
    service.escalation_policy = make_policy(service.team, (0, [("schedule", schedule.pk)]))
    service.save()
    return schedule


@pytest.fixture
def asked(monkeypatch) -> list[datetime]:
    """The instants the batch asked oncall about."""
    instants = []
    ask = oncall_selectors.oncall_at_many

    def counted(schedules, at):
        instants.append(at)
        return ask(schedules, at)

    monkeypatch.setattr(oncall_selectors, "oncall_at_many", counted)
    return instants


def fire_all(service, instants: list[datetime]) -> list[str]:
    """One incident triggered and fired at each instant, in one batch; whom each paged."""
    memo = runs.Memo()
    paged = []
    for n, at in enumerate(instants):
        incident = make_alert_incident(service, at, key=f"k{n}")
        state = IncidentEscalation.objects.get(incident=incident)
        runs.escalation_advance(escalation_id=state.pk, token=state.token, now=at, memo=memo)
        paged.append(Notification.objects.get(incident=incident).user.username)
    return paged


def test_a_batch_asks_once_per_shift_and_follows_the_handoff(service, users, rota, asked):
    second = timedelta(seconds=1)
    instants = [HANDOFF - 60 * second, HANDOFF - second, HANDOFF, HANDOFF + 30 * second]
    expected = ["responder", "responder", "manager", "manager"]
    assert fire_all(service, instants) == expected
    assert asked == [HANDOFF - 60 * second, HANDOFF]
    assert [
        oncall_selectors.oncall_users(schedule_id=rota.pk, at=at)[0].username for at in instants
    ] == expected


def test_an_override_starting_during_the_batch_takes_over_at_its_start(service, users, rota, asked):
    at = HANDOFF + timedelta(hours=1)
    starts = at + timedelta(seconds=30)
    oncall.override_create(
        schedule=rota, user=users["responder"], start=starts, end=starts + timedelta(hours=1)
    )
    instants = [at, starts - timedelta(microseconds=1), starts, starts + timedelta(seconds=5)]
    assert fire_all(service, instants) == ["manager", "manager", "responder", "responder"]
    assert asked == [at, starts]
