"""Metrics follows the incident log: triggered incidents of a drilled service that fall in its
drill window are attached automatically, with an entry on the incident's timeline."""

from datetime import timedelta

import pytest

from incidents.models import EventKind, IncidentEvent
from incidents.tests.factories import make_incident, make_service
from metrics import drills
from metrics import selectors as mttx
from metrics.models import DrillAttachCursor, DrillIncident
from metrics.tests.factories import make_drill
from tests.support import utc

pytestmark = pytest.mark.django_db

T0 = utc(2026, 11, 2, 10, 0)
NOW = T0 + timedelta(hours=2)


def seconds(n: float):
    return T0 + timedelta(seconds=n)


@pytest.fixture
def drill(service):
    drill = make_drill(service.team, (service, 120, 1800), grace_seconds=300)
    drills.drill_inject(drill_id=drill.pk, service_id=service.pk, at=T0)
    return drill


def attached_ids():
    return set(DrillIncident.objects.values_list("incident_id", flat=True))


def test_it_attaches_incidents_detected_between_injection_and_grace_after_restore(drill, service):
    other = make_service(service.team, "payments-api")
    before = make_incident(service, detected=seconds(-1))
    during = make_incident(service, detected=seconds(30))
    other_service = make_incident(other, detected=seconds(30))
    drills.drill_restore(drill_id=drill.pk, service_id=service.pk, at=seconds(600))
    in_grace = make_incident(service, detected=seconds(900))
    too_late = make_incident(service, detected=seconds(901))

    # inject/restore attach what already exists right away; the follower picks up the rest
    assert attached_ids() == {during.pk}
    assert drills.drills_attach_pending(now=NOW) == 1
    assert attached_ids() == {during.pk, in_grace.pk}
    assert not {before.pk, other_service.pk, too_late.pk} & attached_ids()

    event = IncidentEvent.objects.get(incident=in_grace, kind=EventKind.DRILL_ATTACHED)
    assert event.data == {"drill_id": drill.pk, "drill_name": "Failover", "automatic": True}
    assert event.actor is None and event.actor_label == "drill"
    assert DrillIncident.objects.get(incident=in_grace).automatic is True


def test_running_the_follower_twice_attaches_once_and_moves_the_cursor(drill, service):
    incident = make_incident(service, detected=seconds(30))
    assert drills.drills_attach_pending(now=NOW) == 1
    assert drills.drills_attach_pending(now=NOW) == 0
    assert IncidentEvent.objects.filter(kind=EventKind.DRILL_ATTACHED).count() == 1
    triggered = IncidentEvent.objects.get(incident=incident, kind=EventKind.TRIGGERED)
    assert DrillAttachCursor.objects.get().last_event_id >= triggered.pk


def test_an_event_committed_late_behind_the_cursor_is_still_seen(drill, service):
    incident = make_incident(service, detected=seconds(30))
    # The cursor already moved past this event id (another transaction committed first).
    last = IncidentEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    DrillAttachCursor.objects.create(name=drills.CURSOR_NAME, last_event_id=last)
    recorded = IncidentEvent.objects.get(incident=incident, kind=EventKind.TRIGGERED).recorded_at
    assert drills.drills_attach_pending(now=recorded + drills.LOOKBACK * 2) == 0
    assert drills.drills_attach_pending(now=recorded + timedelta(seconds=5)) == 1
    assert attached_ids() == {incident.pk}


def test_a_detached_incident_is_never_attached_again_automatically(drill, service, users):
    incident = make_incident(service, detected=seconds(30))
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == {incident.pk}
    drills.drill_detach(drill_id=drill.pk, incident_id=incident.pk, user=users["responder"])
    DrillAttachCursor.objects.all().delete()  # replay the whole log
    assert drills.drills_attach_pending(now=NOW) == 0
    drills.drill_restore(drill_id=drill.pk, service_id=service.pk, at=seconds(600))
    assert attached_ids() == set()
    # ... but a responder may still attach it by hand.
    drills.drill_attach(drill_id=drill.pk, incident_id=incident.pk, user=users["responder"])
    assert attached_ids() == {incident.pk}


def test_an_injection_reported_late_attaches_incidents_already_open(service):
    drill = make_drill(service.team, (service, 120, 1800))
    incident = make_incident(service, detected=seconds(45))
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == set()
    drills.drill_inject(drill_id=drill.pk, service_id=service.pk, at=T0)
    assert attached_ids() == {incident.pk}


def test_overlapping_drills_share_nothing_an_incident_belongs_to_one(service):
    first = make_drill(service.team, (service, None, None), name="First")
    second = make_drill(service.team, (service, None, None), name="Second")
    drills.drill_inject(drill_id=first.pk, service_id=service.pk, at=T0)
    drills.drill_inject(drill_id=second.pk, service_id=service.pk, at=seconds(60))
    early = make_incident(service, detected=seconds(30))
    late = make_incident(service, detected=seconds(90))
    drills.drills_attach_pending(now=NOW)
    by_incident = dict(DrillIncident.objects.values_list("incident_id", "drill_id"))
    assert by_incident == {early.pk: first.pk, late.pk: second.pk}


def test_attached_incidents_leave_the_production_figures(drill, service):
    production = make_incident(service, detected=seconds(-3600), resolved=seconds(-3000))
    drilled = make_incident(service, detected=seconds(30), resolved=seconds(600))
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == {drilled.pk}
    (row,) = mttx.mttx_by_service_week(
        team=service.team, start_week="2026-W45", end_week="2026-W45", now=NOW
    )
    assert row.incidents == 1
    assert row.mttr.mean == 600.0  # the production incident only
    (drill_row,) = mttx.mttx_by_service_week(
        team=service.team, start_week="2026-W45", end_week="2026-W45", drills=True, now=NOW
    )
    assert drill_row.incidents == 1
    assert drill_row.mttd.mean == 30.0  # counted from the injection
    assert production.pk not in attached_ids()


def test_finished_drills_stop_taking_alerts_after_their_grace(drill, service):
    drills.drill_finish(drill_id=drill.pk, at=seconds(100))
    in_grace = make_incident(service, detected=seconds(399))
    after = make_incident(service, detected=seconds(401))
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == {in_grace.pk}
    assert after.pk not in attached_ids()


def test_a_restore_reported_late_detaches_what_its_window_no_longer_covers(drill, service):
    kept = make_incident(service, detected=seconds(600))
    later = make_incident(service, detected=seconds(2000))  # while the window was open-ended
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == {kept.pk, later.pk}
    drills.drill_restore(drill_id=drill.pk, service_id=service.pk, at=seconds(600))
    assert attached_ids() == {kept.pk}  # grace is 300 s: the window ends at 900 s
    event = IncidentEvent.objects.filter(incident=later).order_by("-seq").first()
    assert event.kind == EventKind.DRILL_DETACHED
    assert event.data["automatic"] is True and event.actor is None
    drills.drills_attach_pending(now=NOW)
    assert attached_ids() == {kept.pk}
