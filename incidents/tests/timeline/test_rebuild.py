"""`manage.py rebuild_incidents`: replay every timeline, report or repair drifted rows."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from incidents.models import Incident
from incidents.tests.support import deliver
from incidents.timeline import actions
from tests.support import am_alert, am_payload, fixture_json

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def rebuild(*args):
    out, err = StringIO(), StringIO()
    call_command("rebuild_incidents", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def intake_history(integration, users):
    """Incidents as alert intake and responders leave them."""
    record, _ = integration
    deliver(record, fixture_json("alertmanager/multiple.json"), T0)
    deliver(record, fixture_json("alertmanager/firing.json"), T0 + timedelta(seconds=30))
    deliver(record, fixture_json("alertmanager/resolved.json"), T0 + timedelta(minutes=16))
    for n in range(3):
        deliver(record, am_payload(am_alert(f"Alert{n}"), group_key=f"g{n}"), T0)
    first, second, *_ = Incident.objects.filter(status="triggered").order_by("pk")
    who = {"user": users["responder"]}
    actions.incident_acknowledge(incident_id=first.pk, **who)
    actions.incident_add_note(incident_id=first.pk, text="looking", **who)
    actions.incident_correct_impact_start(
        incident_id=first.pk, impact_started_at=T0 - timedelta(hours=1), reason="logs", **who
    )
    actions.incident_assign(incident_id=second.pk, assignee_id=users["manager"].pk, **who)
    actions.incident_set_severity(incident_id=second.pk, severity="info", **who)
    actions.incident_resolve(incident_id=second.pk, **who)
    actions.incident_reopen(incident_id=second.pk, **who)
    return list(Incident.objects.order_by("pk"))


def test_the_check_passes_on_intake_data(intake_history):
    out, _ = rebuild("--check")
    assert f"{len(intake_history)} incidents replayed, 0 differed" in out


def test_the_check_passes_on_the_demo_data():
    call_command("seed_demo", stdout=StringIO())
    assert Incident.objects.count() > 10
    out, _ = rebuild("--check")
    assert "0 differed" in out


def test_the_check_reports_each_drifted_field_and_fails(intake_history):
    drifted = intake_history[0]
    Incident.objects.filter(pk=drifted.pk).update(status="resolved", severity="info")
    with pytest.raises(CommandError, match="1 incident rows differ"):
        call_command("rebuild_incidents", "--check", stdout=(out := StringIO()), stderr=StringIO())
    report = out.getvalue()
    assert f"incident #{drifted.pk} differs from its events:" in report
    assert "status: row 'resolved', events say 'acknowledged'" in report
    assert f"severity: row 'info', events say '{drifted.severity}'" in report
    # --check changes nothing.
    assert Incident.objects.get(pk=drifted.pk).status == "resolved"


def test_without_check_it_repairs(intake_history, users):
    drifted = next(i for i in intake_history if i.assignee_id)
    Incident.objects.filter(pk=drifted.pk).update(
        assignee=None, impact_started_at=T0 + timedelta(days=1)
    )
    out, _ = rebuild()
    assert "1 differed from their events, 1 repaired" in out
    repaired = Incident.objects.get(pk=drifted.pk)
    assert repaired.assignee == users["manager"]
    assert repaired.impact_started_at == drifted.impact_started_at
    out, _ = rebuild("--check")
    assert "0 differed" in out


def test_it_shows_progress_on_long_runs(service, users):
    for n in range(7):
        actions.incident_create(service=service, title=f"i{n}", severity="info", at=T0)
    _, progress = rebuild("--check", "--chunk-size", "3", "--progress-every", "2")
    assert progress.splitlines() == [
        "2/7 incidents replayed",
        "4/7 incidents replayed",
        "6/7 incidents replayed",
        "7/7 incidents replayed, done",
    ]


def test_the_query_count_grows_by_chunk_not_by_incident(service, django_assert_max_num_queries):
    for n in range(12):
        actions.incident_create(service=service, title=f"i{n}", severity="info", at=T0)
    # count + (incidents + events) per chunk of 5, and the empty chunk at the end.
    with django_assert_max_num_queries(1 + 2 * 3 + 1):
        rebuild("--check", "--chunk-size", "5")
