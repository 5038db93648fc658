"""Two people acting on one incident at the same moment, each on its own connection."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from incidents.models import EventKind, Incident, IncidentStatus
from incidents.timeline import actions

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs row locks and concurrent writers: PostgreSQL only",
)


def race(callables):
    """Run each callable in its own thread (own DB connection), released together."""
    barrier = threading.Barrier(len(callables))
    outcomes = [None] * len(callables)

    def run(index, function):
        try:
            barrier.wait(timeout=10)
            function()
            outcomes[index] = "ok"
        except Exception as exc:  # the outcome is what the test checks
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(callables)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_two_acknowledgements_at_once_make_one_event(transactional_db, service, users, attempt):
    incident = actions.incident_create(
        service=service, title="Checkout down", severity="critical", user=users["manager"], at=T0
    )
    outcomes = race(
        [
            lambda who=who: actions.incident_acknowledge(incident_id=incident.pk, user=users[who])
            for who in ("responder", "manager")
        ]
    )
    assert outcomes.count("ok") == 1
    refused = [o for o in outcomes if o != "ok"]
    assert isinstance(refused[0], actions.InvalidTransition), refused
    assert "already acknowledged" in str(refused[0])
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.ACKNOWLEDGED
    assert incident.events.filter(kind=EventKind.ACKNOWLEDGED).count() == 1
    assert incident.last_seq == incident.events.count()


def test_a_note_and_a_resolve_at_once_both_land_in_order(transactional_db, service, users):
    incident = actions.incident_create(
        service=service, title="Checkout down", severity="critical", user=users["manager"], at=T0
    )
    outcomes = race(
        [
            lambda: actions.incident_add_note(
                incident_id=incident.pk, user=users["responder"], text="looking"
            ),
            lambda: actions.incident_resolve(incident_id=incident.pk, user=users["manager"]),
        ]
    )
    assert outcomes == ["ok", "ok"]
    incident = Incident.objects.get(pk=incident.pk)
    assert sorted(incident.events.values_list("seq", flat=True)) == [1, 2, 3]
    assert incident.status == IncidentStatus.RESOLVED and incident.last_seq == 3
