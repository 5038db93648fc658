"""Weekly MTTR reports: exact figures on hand-built data (a DST week), immutable versioned
snapshots, the page, the CSV and the API."""

import csv
import io
from datetime import timedelta

import pytest

from config.celery import app as celery_app
from metrics import reports
from metrics.models import WeeklyReport
from metrics.tests.factories import REPORT_BUILT_AT, REPORT_WEEK, make_late_report_incident
from oncall.tests.factories import make_team
from tests.support import charts_in, utc

pytestmark = pytest.mark.django_db


def test_it_counts_the_week_in_the_teams_zone_across_the_dst_change(w43_report):
    payload = w43_report.payload
    assert payload["week"] == "2026-W43" and payload["time_zone"] == "Europe/Berlin"
    assert payload["starts_at"] == "2026-10-18T22:00:00+00:00"
    assert payload["ends_at"] == "2026-10-25T23:00:00+00:00"  # 169 hours
    assert payload["compared_weeks"] == ["2026-W39", "2026-W40", "2026-W41", "2026-W42"]
    assert payload["totals"] == {"incidents": 3, "alerts": 2}
    assert [r["slug"] for r in payload["services"]] == ["checkout", "fraud", "payments-api"]


def test_it_gives_exact_figures_per_service(w43_report):
    checkout, fraud, api = w43_report.payload["services"]
    # a (600, 300, 3600) and b (0, 120, 1800); c is W44, d W42, the drill's incident is out
    assert (checkout["incidents"], checkout["open"], checkout["unacknowledged"]) == (2, 0, 0)
    assert checkout["mttd"] == {"count": 2, "mean": 300.0, "p50": 300.0, "p90": 540.0, "max": 600.0}
    assert checkout["mtta"] == {"count": 2, "mean": 210.0, "p50": 210.0, "p90": 282.0, "max": 300.0}
    assert checkout["mttr"] == {
        "count": 2,
        "mean": 2700.0,
        "p50": 2700.0,
        "p90": 3420.0,
        "max": 3600.0,
    }
    # previous four weeks: d in W42 (0, 600, 3600) and f in W40 (300, 600, 7200)
    assert checkout["previous"] == {
        "incidents_per_week": 0.5,
        "mttd_mean": 150.0,
        "mtta_mean": 600.0,
        "mttr_mean": 5400.0,
    }
    assert checkout["change"] == {"incidents": 300.0, "mttd": 100.0, "mtta": -65.0, "mttr": -50.0}
    assert (api["incidents"], api["alerts"], api["open"], api["unacknowledged"]) == (1, 2, 1, 1)
    assert api["mttd"]["mean"] == 120.0
    assert api["mtta"]["count"] == 0 and api["mttr"]["mean"] is None
    assert api["change"] == {"incidents": None, "mttd": None, "mtta": None, "mttr": None}
    assert (fraud["incidents"], fraud["mttd"]["mean"]) == (0, None)


def test_it_lists_the_noisiest_services_and_the_weeks_drills(w43_report, w43):
    assert w43_report.payload["noisiest"] == [
        {"slug": "checkout", "name": "Checkout", "incidents": 2, "alerts": 0},
        {"slug": "payments-api", "name": "Payments API", "incidents": 1, "alerts": 2},
    ]
    (drill,) = w43_report.payload["drills"]
    assert (drill["id"], drill["name"], drill["result"]) == (
        w43["drill"].pk,
        "Checkout failover",
        "pass",
    )
    (service,) = drill["services"]
    assert (service["mttd"], service["mttr"], service["missed"]) == (90.0, 1200.0, False)
    assert (service["mttd_result"], service["mttr_result"]) == ("pass", "pass")


def test_it_counts_pages_per_person_in_their_own_zone(w43_report, users):
    load = w43_report.payload["oncall_load"]
    assert "notification" in load["source"]
    assert load["people"] == [
        # a (Sunday 18:35 in New York), e (06:01), g (08:02, working hours)
        {
            "user_id": users["responder"].pk,
            "name": "responder",
            "time_zone": "America/New_York",
            "pages": 3,
            "off_hours": 2,
        },
        # b (Sunday 23:32 in Berlin) and e (Wednesday 12:01); the failed and W44 pages not
        {
            "user_id": users["manager"].pk,
            "name": "manager",
            "time_zone": "Europe/Berlin",
            "pages": 2,
            "off_hours": 1,
        },
    ]


def test_building_again_returns_the_snapshot_and_says_so(w43_report, team):
    make_late_report_incident(team)
    again = reports.report_build(team=team, week=REPORT_WEEK, now=utc(2026, 11, 9))
    assert not again.created and again.report.pk == w43_report.pk
    assert again.message == (
        "payments 2026-W43 already built at 2026-11-02T06:00:00+00:00 (version 1); "
        "use --rebuild for a new version"
    )
    assert again.report.payload["totals"]["incidents"] == 3


def test_a_rebuild_adds_a_version_and_keeps_the_old_one(w43_report, team):
    make_late_report_incident(team)
    rebuilt = reports.report_build(team=team, week=REPORT_WEEK, rebuild=True, now=utc(2026, 11, 9))
    assert rebuilt.created and rebuilt.report.version == 2
    assert rebuilt.message == "built payments 2026-W43 version 2"
    old, new = WeeklyReport.objects.filter(team=team, week=REPORT_WEEK).order_by("version")
    assert old.payload["totals"]["incidents"] == 3
    assert new.payload["totals"]["incidents"] == 4
    assert reports.latest(team, REPORT_WEEK) == new


def test_two_builders_racing_make_one_report(w43_report, team, monkeypatch):
    """A second beat builds the same week at the same moment: it looked before the first
    committed (so it saw no report), and must end up returning the first's, not adding a
    version 2 that would be emailed again."""
    real_latest = reports.latest
    looks = []

    def latest(team, week):
        looks.append(week)
        return None if len(looks) == 1 else real_latest(team, week)

    monkeypatch.setattr(reports, "latest", latest)
    again = reports.report_build(team=team, week=REPORT_WEEK, now=utc(2026, 11, 9))
    assert not again.created and again.report.pk == w43_report.pk
    assert WeeklyReport.objects.filter(team=team, week=REPORT_WEEK).count() == 1


def test_snapshots_cannot_be_changed(w43_report):
    w43_report.payload = {}
    with pytest.raises(TypeError):
        w43_report.save()
    with pytest.raises(TypeError):
        WeeklyReport.objects.filter(pk=w43_report.pk).update(version=9)


def test_a_week_that_is_not_over_is_not_frozen(team):
    with pytest.raises(reports.ReportError, match="not over yet"):
        reports.report_build(team=team, week="2026-W45", now=utc(2026, 11, 8, 22, 59))
    with pytest.raises(reports.ReportError, match="2026-W54"):
        reports.report_build(team=team, week="2026-W54", now=REPORT_BUILT_AT)


def test_each_team_gets_its_report_once_its_own_monday_0600_has_passed(team):
    west = make_team(slug="west", name="West", time_zone="America/Los_Angeles")
    # Run the beat task every hour from Sunday 2026-11-01 12:00 UTC to Tuesday: 2026-W44
    # ends at Monday 00:00 local; its report is due at Monday 06:00 local.
    built_at = {}
    for hour in range(60):
        now = utc(2026, 11, 1, 12) + timedelta(hours=hour)
        for result in reports.reports_build_previous_week(now=now):
            if result.created:
                built_at[(result.report.team.slug, result.report.week)] = now
    # Berlin (UTC+1): Monday 06:00 CET is 05:00 UTC. Los Angeles (UTC-8): 14:00 UTC, the
    # same Monday, not a week later.
    assert built_at[("payments", "2026-W44")] == utc(2026, 11, 2, 5)
    assert built_at[("west", "2026-W44")] == utc(2026, 11, 2, 14)
    # Before those hours each team's week before (W43) was the due one: built once.
    assert built_at[("payments", "2026-W43")] == built_at[("west", "2026-W43")]
    assert len(built_at) == 4
    assert WeeklyReport.objects.filter(team=west).count() == 2


def test_the_report_beat_runs_every_hour():
    schedule = celery_app.conf.beat_schedule
    weekly = schedule["metrics-weekly-reports"]["schedule"]
    assert weekly.minute == {0} and weekly.hour == set(range(24))
    assert weekly.day_of_week == set(range(7))
    assert schedule["metrics-attach-drill-incidents"]["schedule"] == 5.0


def test_the_csv_has_one_row_per_service(client, users, w43_report):
    client.force_login(users["viewer"])
    response = client.get("/reports/payments/2026-W43.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="payments-2026-W43-v1.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:6] == ["week", "service", "incidents", "alerts", "open", "unacknowledged"]
    assert rows[0][6:9] == ["mttd_mean_seconds", "mttd_p50_seconds", "mttd_p90_seconds"]
    assert rows[1] == [
        "2026-W43",
        "checkout",
        "2",
        "0",
        "0",
        "0",
        "300",
        "300",
        "540",
        "210",
        "210",
        "282",
        "2700",
        "2700",
        "3420",
        "300",
        "100",
        "-65",
        "-50",
    ]
    assert rows[3][:9] == ["2026-W43", "payments-api", "1", "2", "1", "1", "120", "120", "120"]
    assert rows[3][9:] == [""] * 10
    assert len(rows) == 4


def test_the_page_shows_the_table_charts_and_definitions(client, users, w43_report):
    client.force_login(users["viewer"])
    page = client.get("/reports/payments/2026-W43/").content.decode()
    assert "5m 0s / 5m 0s / 9m 0s" in page  # checkout MTTD mean / p50 / p90
    assert "+100.0%" in page and "-65.0%" in page
    assert "MTTR: resolved - impact start" in page
    assert "Checkout failover" in page and "America/New_York" in page
    figures = charts_in(page)
    titles = [f["layout"]["title"]["text"] for f in figures]
    assert titles == [
        "Mean MTTD and MTTR per service",
        "Incidents and alerts per service",
        "Pages per person",
    ]
    assert figures[0]["data"][0]["x"] == ["Checkout", "Payments API"]
    assert figures[0]["data"][0]["y"] == [5.0, 2.0]
    assert "/static/plotly/plotly.min.js" in page and "/static/js/charts.js" in page


def test_versions_and_outsiders(client, users, w43_report, team):
    reports.report_build(team=team, week=REPORT_WEEK, rebuild=True, now=utc(2026, 11, 9))
    client.force_login(users["viewer"])
    assert "version 2" in client.get("/reports/payments/2026-W43/").content.decode()
    assert "version 1" in client.get("/reports/payments/2026-W43/?version=1").content.decode()
    api = client.get("/api/v1/reports/payments/2026-W43").json()
    assert (api["version"], api["versions"]) == (2, [1, 2])
    assert api["payload"]["services"][0]["mttd"]["p90"] == 540.0
    assert client.get("/api/v1/reports/payments/2026-W43?version=1").json()["version"] == 1
    assert client.get("/api/v1/reports/payments/2026-W43?version=x").status_code == 400
    # "²" passes str.isdigit() but int() refuses it (a 500 once); 2**70 is no version either.
    for odd in ("x", "%C2%B2", str(2**70)):
        assert client.get(f"/reports/payments/2026-W43/?version={odd}").status_code == 404
        assert client.get(f"/reports/payments/2026-W43.csv?version={odd}").status_code == 404
        assert client.get(f"/api/v1/reports/payments/2026-W43?version={odd}").status_code == 400
    assert client.get("/reports/payments/2026-W44/").status_code == 404
    client.force_login(users["outsider"])
    for url in (
        "/reports/payments/2026-W43/",
        "/reports/payments/2026-W43.csv",
        "/reports/payments/",
        "/api/v1/reports/payments/2026-W43",
    ):
        assert client.get(url).status_code == 404, url
