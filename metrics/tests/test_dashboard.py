"""The dashboard (open incidents, on-call now, MTTD / MTTR trend, drills, paging partials)
and the service page (distributions and weekly table), in a fixed number of queries."""

from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from incidents.tests.factories import make_incident, make_service
from metrics import drills
from metrics.models import MttxWeek
from metrics.rollup import mttx_weeks_rollup
from metrics.tests.factories import make_drill
from metrics.weeks import iso_week_of, shift_week, week_bounds
from oncall.models import Role
from oncall.tests.factories import layer, make_membership, make_schedule, make_team
from tests.support import charts_in

pytestmark = pytest.mark.django_db


def last_week_start(team) -> tuple[str, datetime]:
    week = shift_week(iso_week_of(timezone.now(), "UTC"), -1)
    return week, week_bounds(week, team.time_zone)[0]


def history(service, start: datetime, *, mttd: int, mttr: int, n: int = 1):
    for k in range(n):
        detected = start + timedelta(days=2, hours=k)
        make_incident(
            service,
            detected=detected,
            impact=detected - timedelta(seconds=mttd),
            resolved=detected - timedelta(seconds=mttd) + timedelta(seconds=mttr),
        )


def schedule_with(team, user):
    return make_schedule(
        team,
        [layer("Primary", [user], unit="weeks", handoff_start=datetime(2026, 1, 5, 9, 0))],
        name="Payments primary",
    )


def test_it_shows_who_is_on_call_the_trend_and_drills(client, users, service, team):
    week, start = last_week_start(team)
    history(service, start, mttd=120, mttr=1800)
    mttx_weeks_rollup()
    schedule_with(team, users["responder"])
    due = make_drill(team, (service, 60, 600), name="Quarterly failover")
    old = make_drill(team, (service, 60, 600), name="Last year's drill")
    drills.drill_finish(drill_id=old.pk, at=timezone.now() - timedelta(days=30))

    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    assert "Payments primary" in page and '<span class="oncall-user">responder</span>' in page
    assert "Quarterly failover" in page and f"/drills/{due.pk}/" in page
    assert "Last year" not in page
    assert "MTTD: detected - impact start" in page
    assert 'href="/reports/payments/"' in page
    mttd, mttr = charts_in(page)
    assert mttd["layout"]["title"]["text"] == "MTTD per service, weekly mean"
    (line,) = mttd["data"]
    assert line["name"] == "Payments / Checkout"
    assert len(line["x"]) == 12 and line["x"][-1] == week
    assert line["y"][-1] == 2.0 and line["y"][0] is None
    assert mttr["data"][0]["y"][-1] == 30.0
    assert "/static/js/charts.js" in page and "/static/js/dashboard.js" in page


def test_it_includes_the_paging_partials_when_they_exist(
    client, users, service, settings, tmp_path
):
    client.force_login(users["viewer"])
    partial = tmp_path / "incidents" / "_maintenance_active.html"
    partial.parent.mkdir()
    partial.write_text('<p id="test-maintenance">maintenance for {{ user.username }}</p>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    assert '<p id="test-maintenance">maintenance for viewer</p>' in client.get("/").content.decode()


def test_the_dashboard_works_without_schedules_or_history(client, users, service):
    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    assert "No schedules in your teams." in page
    assert "No closed week with incidents yet." in page
    assert "No drills due or run in the last two weeks." in page
    assert "plotly.min.js" not in page  # no chart, no 3 MB of script


def test_the_dashboard_query_count_does_not_grow(
    client, users, service, team, django_assert_max_num_queries
):
    week, start = last_week_start(team)
    schedule_with(team, users["responder"])
    history(service, start, mttd=60, mttr=600)
    make_drill(team, (service, 60, 600))
    make_incident(service, detected=timezone.now() - timedelta(minutes=5))
    mttx_weeks_rollup()
    client.force_login(users["manager"])
    with django_assert_max_num_queries(20) as first:
        client.get("/")

    for n in range(4):
        other = make_team(slug=f"team-{n}", name=f"Team {n}", time_zone="Asia/Tokyo")
        make_membership(other, users["manager"], role=Role.MANAGER)
        extra = make_service(other, f"svc-{n}")
        schedule_with(other, users["manager"])
        history(extra, week_bounds(week, other.time_zone)[0], mttd=30, mttr=300, n=3)
        make_drill(other, (extra, 60, 600), name=f"Drill {n}")
        make_incident(extra, detected=timezone.now() - timedelta(minutes=n + 1))
        make_incident(extra, detected=timezone.now() - timedelta(hours=1), resolved=timezone.now())
    mttx_weeks_rollup()
    with django_assert_max_num_queries(len(first.captured_queries)):
        page = client.get("/").content.decode()
    assert "Team 3 / Svc-3" in page and "Drill 3" in page


def test_the_service_page_shows_distributions_and_a_weekly_table(client, users, service, team):
    week, start = last_week_start(team)
    history(service, start, mttd=60, mttr=600)
    history(service, start + timedelta(hours=5), mttd=180, mttr=1800)
    drill = make_drill(team, (service, None, None))
    drills.drill_inject(drill_id=drill.pk, service_id=service.pk, at=start + timedelta(days=3))
    make_incident(service, detected=start + timedelta(days=3, seconds=30))  # a drill incident
    drills.drills_attach_pending(now=start + timedelta(days=3, minutes=1))

    client.force_login(users["viewer"])
    page = client.get("/services/checkout/").content.decode()
    (figure,) = charts_in(page)
    mttd, mtta, mttr = figure["data"]
    assert (mttd["type"], mttd["name"]) == ("box", "MTTD")
    assert sorted(mttd["y"]) == [1.0, 3.0]  # the drill incident is not a production figure
    assert mtta["y"] == []
    assert sorted(mttr["y"]) == [10.0, 30.0]
    assert "2 production incidents" in page
    assert f"<td>{week}</td><td>2</td>" in page
    assert "2m 0s / 2m 0s / 2m 48s" in page  # MTTD mean / p50 / p90 of 60 and 180 s
    assert "MTTA: acknowledged - detected" in page

    client.force_login(users["outsider"])
    assert client.get("/services/checkout/").status_code == 404


def test_the_service_page_query_count_does_not_grow_with_incidents(
    client, users, service, team, django_assert_max_num_queries
):
    _, start = last_week_start(team)
    history(service, start, mttd=60, mttr=600)
    client.force_login(users["viewer"])
    with django_assert_max_num_queries(20) as first:
        client.get("/services/checkout/")
    history(service, start + timedelta(hours=6), mttd=60, mttr=600, n=10)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get("/services/checkout/").status_code == 200


def test_the_trend_shows_closed_weeks_the_rollup_has_not_reached_yet(client, users, service, team):
    # The hourly rollup has not run since the week closed (or ever, on a fresh demo): the
    # service page computed those weeks live while the dashboard's trend stayed empty.
    week, start = last_week_start(team)
    history(service, start, mttd=120, mttr=1800)
    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    assert "No closed week with incidents yet." not in page
    mttd, mttr = charts_in(page)
    (line,) = mttd["data"]
    assert line["x"][-1] == week and line["y"][-1] == 2.0
    assert mttr["data"][0]["y"][-1] == 30.0
    service_page = client.get("/services/checkout/").content.decode()
    assert f"<td>{week}</td><td>1</td>" in service_page


def test_the_trend_recomputes_weeks_rolled_up_in_another_zone(client, users, service, team):
    _, start = last_week_start(team)
    history(service, start, mttd=120, mttr=1800)
    mttx_weeks_rollup()
    MttxWeek.objects.filter(service=service).update(time_zone="Asia/Tokyo", mttd_sum_us=1)
    client.force_login(users["viewer"])
    (line,) = charts_in(client.get("/").content.decode())[0]["data"]
    assert line["y"][-1] == 2.0


def test_after_a_rollup_the_trend_reads_only_the_read_model(client, users, service, team):
    _, start = last_week_start(team)
    history(service, start, mttd=120, mttr=1800)
    mttx_weeks_rollup()
    client.force_login(users["viewer"])
    with CaptureQueriesContext(connection) as queries:
        client.get("/")
    assert not [q for q in queries.captured_queries if "durations" in q["sql"]]


def test_in_a_storm_the_dashboard_lists_the_newest_open_incidents_and_links_the_rest(
    client, users, service, monkeypatch
):
    monkeypatch.setattr("incidents.timeline.selectors.OPEN_LIST_LIMIT", 2)
    now = timezone.now()
    oldest, middle, newest = (
        make_incident(service, detected=now - timedelta(minutes=m), title=f"Storm {m}")
        for m in (30, 20, 10)
    )
    client.force_login(users["viewer"])
    page = client.get("/").content.decode()
    listed = page.split('<div data-role="open-list">')[1].split("</div>")[0]
    assert f"/incidents/{newest.pk}/" in listed and f"/incidents/{middle.pk}/" in listed
    assert f"/incidents/{oldest.pk}/" not in listed
    assert 'href="/incidents/?status=open">All open incidents</a>' in page
    assert len(client.get("/incidents/feed.json").json()["open"]) == 2


def test_the_service_page_distributions_keep_the_newest_incidents_of_a_storm(
    client, users, service, team, monkeypatch
):
    monkeypatch.setattr("metrics.selectors_pages.MAX_INCIDENTS", 2)
    _, start = last_week_start(team)
    for k, mttd in enumerate((60, 120, 180)):
        history(service, start + timedelta(hours=10 * k), mttd=mttd, mttr=600)
    client.force_login(users["viewer"])
    page = client.get("/services/checkout/").content.decode()
    assert "2 production incidents detected since" in page and "(the most recent only)" in page
    (figure,) = charts_in(page)
    assert sorted(figure["data"][0]["y"]) == [2.0, 3.0]  # the two newest MTTDs, in minutes
