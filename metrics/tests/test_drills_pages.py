"""Drill pages: list, create form (managers), review with its buttons (responders)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.tests.factories import make_incident, make_service
from metrics import drills
from metrics.models import Drill, DrillIncident, DrillService
from metrics.tests.factories import make_drill
from tests.support import charts_in, utc

pytestmark = pytest.mark.django_db

T0 = utc(2026, 11, 2, 10, 0)


def test_the_list_shows_the_teams_drills_only(client, users, service):
    make_drill(service.team, (service, 60, 600), name="Primary DB failover")
    client.force_login(users["viewer"])
    page = client.get("/drills/").content.decode()
    assert "Primary DB failover" in page and "Checkout" in page
    assert "New drill" not in page
    client.force_login(users["manager"])
    assert "New drill" in client.get("/drills/").content.decode()
    client.force_login(users["outsider"])
    assert "Primary DB failover" not in client.get("/drills/").content.decode()


def test_a_manager_creates_a_drill_with_targets_in_minutes(client, users, service):
    api = make_service(service.team, "payments-api", "Payments API")
    client.force_login(users["manager"])
    assert "Payments API" in client.get("/drills/new").content.decode()
    response = client.post(
        "/drills/new",
        {
            "team": "payments",
            "name": "Region evacuation",
            "scenario": "Drain eu-west-1",
            "grace_minutes": "10",
            f"service_{service.pk}": "1",
            f"mttd_{service.pk}": "2.5",
            f"mttr_{service.pk}": "30",
            f"mttd_{api.pk}": "99",  # not ticked: not drilled
        },
    )
    drill = Drill.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/drills/{drill.pk}/"
    assert (drill.name, drill.grace_seconds, drill.created_by) == (
        "Region evacuation",
        600,
        users["manager"],
    )
    target = DrillService.objects.get()
    assert (target.service, target.max_mttd_seconds, target.max_mttr_seconds) == (
        service,
        150,
        1800,
    )


def test_the_form_explains_what_is_wrong(client, users, service):
    client.force_login(users["manager"])
    response = client.post(
        "/drills/new", {"team": "payments", "name": "No services", "grace_minutes": "15"}
    )
    assert response.status_code == 400
    assert "a drill needs at least one service" in response.content.decode()
    response = client.post(
        "/drills/new",
        {
            "team": "payments",
            "name": "Bad target",
            "grace_minutes": "15",
            f"service_{service.pk}": "1",
            f"mttd_{service.pk}": "soon",
        },
    )
    assert response.status_code == 400
    assert "max MTTD for Checkout: minutes" in response.content.decode()
    assert not Drill.objects.exists()


# float() takes these, but NaN and infinity are no whole seconds and 1e300 minutes overflow
# the column: each used to be a 500.
@pytest.mark.parametrize("minutes", ["nan", "inf", "1e300", "99999999999"])
def test_the_form_refuses_targets_no_column_holds(client, users, service, minutes):
    client.force_login(users["manager"])
    response = client.post(
        "/drills/new",
        {
            "team": "payments",
            "name": "Absurd target",
            "grace_minutes": "15",
            f"service_{service.pk}": "1",
            f"mttr_{service.pk}": minutes,
        },
    )
    assert response.status_code == 400
    assert "max MTTR for Checkout: minutes" in response.content.decode()
    assert not Drill.objects.exists()


def test_only_managers_reach_the_form_and_only_for_their_team(client, users, service):
    for role in ("responder", "viewer"):
        client.force_login(users[role])
        assert client.get("/drills/new").status_code == 403
        assert client.post("/drills/new", {"team": "payments", "name": "x"}).status_code == 403
    client.force_login(users["outsider"])  # a manager of another team
    assert "Checkout" not in client.get("/drills/new").content.decode()
    assert client.get("/drills/new?team=payments").status_code == 404
    assert client.post("/drills/new", {"team": "payments", "name": "x"}).status_code == 404
    assert not Drill.objects.exists()


def test_the_review_calls_out_missed_detections_and_shows_figures(client, users, service):
    api = make_service(service.team, "payments-api", "Payments API")
    earlier = make_drill(service.team, (service, 120, 1800), name="Last quarter")
    drills.drill_inject(drill_id=earlier.pk, service_id=service.pk, at=T0 - timedelta(days=90))
    drill = make_drill(service.team, (service, 120, 1800), (api, 60, None), name="This quarter")
    for target in (service, api):
        drills.drill_inject(drill_id=drill.pk, service_id=target.pk, at=T0)
    incident = make_incident(
        service,
        detected=T0 + timedelta(seconds=95),
        acked=T0 + timedelta(seconds=130),
        resolved=T0 + timedelta(seconds=1200),
    )
    drills.drills_attach_pending(now=T0 + timedelta(hours=1))
    drills.drill_restore(drill_id=drill.pk, service_id=api.pk, at=T0 + timedelta(seconds=900))

    client.force_login(users["viewer"])
    page = client.get(f"/drills/{drill.pk}/").content.decode()
    assert "MISSED DETECTION" in page and "Payments API" in page
    assert f"#{incident.pk} Checkout is down" in page
    assert "1m 35s" in page  # MTTD of checkout, from the injection
    assert "20m 0s" in page  # MTTR
    assert "first alert \u2212 injection" in page  # the definition next to the figure
    assert "Detach" not in page and "Inject fault now" not in page  # viewers only read
    (trend,) = [c for c in charts_in(page) if c["layout"]["title"]["text"].startswith("Checkout")]
    assert [t["name"] for t in trend["data"]][:2] == ["MTTD", "MTTR"]
    assert len(trend["data"][0]["x"]) == 2  # last quarter's drill and this one
    assert trend["data"][0]["y"][-1] == round(95 / 60, 2)

    client.force_login(users["outsider"])
    assert client.get(f"/drills/{drill.pk}/").status_code == 404


def test_the_review_shows_times_to_the_second(client, users, service):
    # Alerts arrive with microseconds; a review reads like a log, to the second.
    drill = make_drill(service.team, (service, 120, 1800), name="Failover")
    drills.drill_inject(drill_id=drill.pk, service_id=service.pk, at=T0 + timedelta(microseconds=1))
    make_incident(
        service,
        detected=T0 + timedelta(seconds=95, microseconds=123456),
        acked=T0 + timedelta(seconds=130, microseconds=500000),
    )
    drills.drills_attach_pending(now=T0 + timedelta(hours=1))
    client.force_login(users["viewer"])
    page = client.get(f"/drills/{drill.pk}/").content.decode()
    times = re.findall(r"<time datetime=\"[^\"]+\">([^<]+)</time>", page)
    assert len(times) == 3, times  # injected, first alert, acknowledged
    assert all(re.search(r" \d\d:\d\d:\d\d \S+$", shown) for shown in times), times


def test_responders_use_the_buttons(client, users, service):
    drill = make_drill(service.team, (service, 120, 1800))
    client.force_login(users["responder"])
    page = client.get(f"/drills/{drill.pk}/").content.decode()
    assert "Inject fault now" in page
    client.post(f"/drills/{drill.pk}/inject", {"service": service.pk})
    assert DrillService.objects.get().injected_at is not None

    # Detected shortly before the injection: not attached automatically, but offered.
    incident = make_incident(service, detected=timezone.now() - timedelta(minutes=5))
    page = client.get(f"/drills/{drill.pk}/").content.decode()
    assert f'<option value="{incident.pk}">' in page
    client.post(f"/drills/{drill.pk}/attach", {"incident": incident.pk})
    assert DrillIncident.objects.get().attached_by == users["responder"]
    again = client.post(f"/drills/{drill.pk}/attach", {"incident": incident.pk}, follow=True)
    assert "already attached to this drill" in again.content.decode()
    client.post(f"/drills/{drill.pk}/detach", {"incident": incident.pk})
    assert not DrillIncident.objects.exists()
    client.post(f"/drills/{drill.pk}/finish")
    drill.refresh_from_db()
    assert drill.status == Drill.Status.FINISHED


def test_viewers_cannot_press_the_buttons(client, users, service):
    drill = make_drill(service.team, (service, 120, 1800))
    client.force_login(users["viewer"])
    response = client.post(f"/drills/{drill.pk}/inject", {"service": service.pk})
    assert response.status_code == 403
    assert DrillService.objects.get().injected_at is None
    client.force_login(users["outsider"])
    assert client.post(f"/drills/{drill.pk}/inject", {"service": service.pk}).status_code == 404
