"""GET /api/v1/metrics/services/: per-service weekly MTTx for a team the user can see."""

import pytest

from incidents.tests.factories import make_incident, make_service
from metrics.tests.factories import WEEK, t

pytestmark = pytest.mark.django_db

URL = "/api/v1/metrics/services/"


def test_it_returns_exact_weekly_rows_in_seconds(client, users, mttx_week):
    client.force_login(users["viewer"])
    response = client.get(
        URL, {"team": "payments", "start_week": "2025-W46", "end_week": WEEK, "drills": "false"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["team"], body["time_zone"], body["drills"]) == (
        "payments",
        "Europe/Berlin",
        False,
    )
    assert (body["start_week"], body["end_week"]) == ("2025-W46", WEEK)
    assert "impact start" in body["definitions"]["impact_start"]
    rows = {(r["service"], r["week"]): r for r in body["results"]}
    assert set(rows) == {
        (slug, week) for slug in ("checkout", "payments-api") for week in ("2025-W46", WEEK)
    }
    row = rows[("checkout", WEEK)]
    assert row["service_id"] == mttx_week.checkout.pk
    assert (row["week_start"], row["week_end"]) == (
        "2025-11-16T23:00:00Z",
        "2025-11-23T23:00:00Z",
    )
    assert (row["incidents"], row["open"], row["unacknowledged"]) == (6, 2, 1)
    assert row["mttr"] == {
        "count": 4,
        "mean": 1980.0,
        "p50": 1860.0,
        "p90": pytest.approx(3096.0),
        "max": 3600.0,
    }
    assert row["mtta"]["mean"] == 78.0
    assert rows[("checkout", "2025-W46")]["mttd"] == {
        "count": 0,
        "mean": None,
        "p50": None,
        "p90": None,
        "max": None,
    }


def test_it_reports_drill_incidents_on_their_own(client, users, mttx_week):
    client.force_login(users["viewer"])
    body = client.get(
        URL, {"team": "payments", "start_week": WEEK, "end_week": WEEK, "drills": "true"}
    ).json()
    rows = {r["service"]: r for r in body["results"]}
    assert body["drills"] is True
    assert rows["checkout"]["incidents"] == 1
    assert rows["checkout"]["mttd"]["mean"] == 720.0


def test_it_defaults_to_the_last_eight_weeks(client, users, service):
    client.force_login(users["viewer"])
    body = client.get(URL, {"team": "payments"}).json()
    assert len({r["week"] for r in body["results"]}) == 8
    assert body["results"][-1]["week"] == body["end_week"]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({}, "team", "required"),
        ({"team": "payments", "start_week": "2025-W99"}, "start_week", "does not exist"),
        ({"team": "payments", "end_week": "47"}, "end_week", "not an ISO week"),
        ({"team": "payments", "drills": "maybe"}, "drills", "boolean"),
        (
            {"team": "payments", "start_week": "2025-W48", "end_week": "2025-W47"},
            "start_week",
            "after",
        ),
        (
            {"team": "payments", "start_week": "2020-W01", "end_week": "2025-W47"},
            "start_week",
            "at most 106 weeks",
        ),
    ],
)
def test_it_names_the_bad_parameter(client, users, team, params, field, message):
    client.force_login(users["viewer"])
    response = client.get(URL, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert message in " ".join(response.json()[field])


def test_outsiders_and_unknown_teams_get_404(client, users, team):
    client.force_login(users["outsider"])
    assert client.get(URL, {"team": "payments"}).status_code == 404
    assert client.get(URL, {"team": "no-such-team"}).status_code == 404


def test_it_needs_a_login(client, team):
    assert client.get(URL, {"team": "payments"}).status_code in {401, 403}


def test_its_query_count_does_not_grow(client, users, team, service, django_assert_num_queries):
    client.force_login(users["viewer"])
    params = {"team": "payments", "start_week": "2025-W40", "end_week": WEEK}
    make_incident(service, detected=t(9))
    with django_assert_num_queries(7) as few:
        assert client.get(URL, params).status_code == 200
    for n in range(4):
        other = make_service(team, f"svc-{n}", f"Service {n}")
        make_incident(other, detected=t(10, n), acked=t(11))
    with django_assert_num_queries(len(few.captured_queries)):
        assert len(client.get(URL, params).json()["results"]) == 5 * 8
