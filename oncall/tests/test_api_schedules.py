"""Schedules API: create/read/replace/edit/delete, validation, roles, and exact UTC shift
boundaries across real DST transitions (Europe/Berlin: 2026-03-29 02:00 CET -> 03:00 CEST at
01:00 UTC; 2026-10-25 03:00 CEST -> 02:00 CET at 01:00 UTC)."""

import copy
import json

import pytest

from oncall.models import Layer, LayerParticipant, Schedule

pytestmark = pytest.mark.django_db

URL = "/api/v1/schedules/"


def body(**changes) -> dict:
    """A valid two-layer Berlin schedule; ``changes`` replace top-level keys."""
    data = {
        "team": "payments",
        "name": "Payments primary",
        "time_zone": "Europe/Berlin",
        "layers": [
            {
                "name": "business hours",
                "participants": ["viewer"],
                "rotation": {"unit": "weeks", "every": 1},
                "handoff_start": "2026-03-23T09:00",
                "restrictions": [
                    {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
                ],
            },
            {
                "name": "primary",
                "participants": ["manager", "responder"],
                "rotation": {"unit": "days", "every": 1},
                "handoff_start": "2026-03-27T09:00",
            },
        ],
    }
    data.update(changes)
    return data


def post(client, data, url=URL):
    return client.post(url, json.dumps(data), content_type="application/json")


def send(client, method, url, data):
    return getattr(client, method)(url, json.dumps(data), content_type="application/json")


@pytest.fixture
def created(manager_client):
    response = post(manager_client, body())
    assert response.status_code == 201, response.json()
    return response.json()


def test_it_creates_a_schedule_with_layers_in_priority_order(created):
    assert created["team"] == "payments"
    assert created["time_zone"] == "Europe/Berlin"
    assert created["handoff_notice_seconds"] == 1800
    assert [layer["name"] for layer in created["layers"]] == ["business hours", "primary"]
    assert created["layers"][1]["participants"] == ["manager", "responder"]
    assert created["layers"][0]["restrictions"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "17:00"}
    ]
    assert created["layers"][1]["handoff_start"] == "2026-03-27T09:00"
    stored = Layer.objects.filter(schedule_id=created["id"]).order_by("position")
    assert [(layer.name, layer.position) for layer in stored] == [
        ("business hours", 0),
        ("primary", 1),
    ]
    assert LayerParticipant.objects.filter(layer__schedule_id=created["id"]).count() == 3


def test_it_returns_exact_utc_shifts_across_the_spring_change(manager_client):
    data = body(layers=[body()["layers"][1]])
    schedule = post(manager_client, data).json()
    response = manager_client.get(
        f"{URL}{schedule['id']}/shifts",
        {"start": "2026-03-28T00:00:00Z", "end": "2026-03-31T00:00:00Z"},
    )
    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "user": "manager",
            "start": "2026-03-28T00:00:00Z",
            "end": "2026-03-28T08:00:00Z",
            "source": "primary",
        },
        # Sat 09:00 CET to Sun 09:00 CEST: 23 hours.
        {
            "user": "responder",
            "start": "2026-03-28T08:00:00Z",
            "end": "2026-03-29T07:00:00Z",
            "source": "primary",
        },
        {
            "user": "manager",
            "start": "2026-03-29T07:00:00Z",
            "end": "2026-03-30T07:00:00Z",
            "source": "primary",
        },
        {
            "user": "responder",
            "start": "2026-03-30T07:00:00Z",
            "end": "2026-03-31T00:00:00Z",
            "source": "primary",
        },
    ]


def test_it_returns_exact_utc_shifts_across_the_autumn_change(manager_client):
    layer = dict(body()["layers"][1], handoff_start="2026-10-24T09:00")
    schedule = post(manager_client, body(layers=[layer])).json()
    response = manager_client.get(
        f"{URL}{schedule['id']}/shifts",
        {"start": "2026-10-24T07:00:00Z", "end": "2026-10-26T08:00:00Z"},
    )
    assert [(s["user"], s["start"], s["end"]) for s in response.json()["results"]] == [
        ("manager", "2026-10-24T07:00:00Z", "2026-10-25T08:00:00Z"),  # 25 hours
        ("responder", "2026-10-25T08:00:00Z", "2026-10-26T08:00:00Z"),
    ]


def test_it_lets_the_higher_layer_win_and_merges_one_persons_pieces(created, manager_client):
    # Mon 30 Mar (CEST): viewer's business-hours window cuts into manager's Sunday shift...
    response = manager_client.get(
        f"{URL}{created['id']}/shifts",
        {"start": "2026-03-30T00:00:00+02:00", "end": "2026-03-31T00:00:00+02:00"},
    )
    shifts = response.json()["results"]
    assert [(s["user"], s["start"], s["end"], s["source"]) for s in shifts] == [
        ("manager", "2026-03-29T22:00:00Z", "2026-03-30T07:00:00Z", "primary"),
        ("viewer", "2026-03-30T07:00:00Z", "2026-03-30T15:00:00Z", "business hours"),
        ("responder", "2026-03-30T15:00:00Z", "2026-03-30T22:00:00Z", "primary"),
    ]


@pytest.mark.parametrize(
    ("at", "user", "source", "shift_start", "shift_end"),
    [
        # Sunday 29 March: no business hours; responder's Saturday shift ends at 09:00 CEST.
        (
            "2026-03-29T06:59:59Z",
            "responder",
            "primary",
            "2026-03-28T08:00:00Z",
            "2026-03-29T07:00:00Z",
        ),
        ("2026-03-29T07:00:00Z", "manager", "primary", "2026-03-29T07:00:00Z", None),
        (
            "2026-03-30T09:00:00+02:00",
            "viewer",
            "business hours",
            "2026-03-30T07:00:00Z",
            "2026-03-30T15:00:00Z",
        ),
        ("2026-03-27T07:59:59Z", None, None, None, None),  # before the first handoff
    ],
)
def test_it_says_who_is_on_call_at_an_instant(
    created, manager_client, at, user, source, shift_start, shift_end
):
    response = manager_client.get(f"{URL}{created['id']}/oncall", {"at": at})
    assert response.status_code == 200
    data = response.json()
    assert (data["user"], data["source"], data["shift_start"]) == (user, source, shift_start)
    if shift_end:
        assert data["shift_end"] == shift_end


def test_it_reports_the_whole_shift_not_just_the_piece_around_now(manager_client):
    solo = dict(body()["layers"][1], participants=["manager"])
    schedule = post(manager_client, body(layers=[solo])).json()
    data = manager_client.get(
        f"{URL}{schedule['id']}/oncall", {"at": "2026-04-20T12:00:00Z"}
    ).json()
    # One person rotating daily is one continuous shift from the first handoff.
    assert data["user"] == "manager"
    assert data["shift_start"] == "2026-03-27T08:00:00Z"


def test_it_lists_coverage_gaps(created, manager_client):
    response = manager_client.get(
        f"{URL}{created['id']}/gaps",
        {"start": "2026-03-26T00:00:00Z", "end": "2026-03-28T00:00:00Z"},
    )
    # Thu 26 business hours (viewer), then nobody until the first primary handoff on Fri
    # 09:00 CET; from then on primary covers everything.
    assert response.json()["results"] == [
        {
            "start": "2026-03-26T00:00:00Z",
            "end": "2026-03-26T08:00:00Z",
            "duration_seconds": 8 * 3600,
        },
        {
            "start": "2026-03-26T16:00:00Z",
            "end": "2026-03-27T08:00:00Z",
            "duration_seconds": 16 * 3600,
        },
    ]


def test_it_round_trips_get_into_put_and_replaces_everything(created, manager_client):
    url = f"{URL}{created['id']}/"
    current = manager_client.get(url).json()
    assert current == created
    replacement = copy.deepcopy(current)  # "id" and "url" may stay: they are ignored
    replacement["name"] = "Renamed"
    replacement["layers"] = replacement["layers"][1:]
    replacement["layers"][0]["participants"] = ["responder"]
    response = send(manager_client, "put", url, replacement)
    assert response.status_code == 200, response.json()
    assert response.json()["name"] == "Renamed"
    assert [layer["participants"] for layer in response.json()["layers"]] == [["responder"]]
    assert Layer.objects.filter(schedule_id=created["id"]).count() == 1


def test_it_patches_only_what_is_given(created, manager_client):
    url = f"{URL}{created['id']}/"
    response = send(manager_client, "patch", url, {"time_zone": "America/New_York"})
    assert response.status_code == 200
    assert response.json()["time_zone"] == "America/New_York"
    assert response.json()["layers"] == created["layers"]
    assert response.json()["name"] == created["name"]

    response = send(manager_client, "patch", url, {"layers": created["layers"][:1]})
    assert [layer["name"] for layer in response.json()["layers"]] == ["business hours"]


def test_it_requires_complete_layers_in_a_patch(created, manager_client):
    response = send(
        manager_client, "patch", f"{URL}{created['id']}/", {"layers": [{"name": "half"}]}
    )
    assert response.status_code == 400
    assert "participants" in response.json()["layers"]["0"]


def test_it_deletes_a_schedule(created, manager_client):
    response = manager_client.delete(f"{URL}{created['id']}/")
    assert response.status_code == 204
    assert not Schedule.objects.filter(pk=created["id"]).exists()
    assert manager_client.get(f"{URL}{created['id']}/").status_code == 404


def _layer_change(**changes):
    return body(layers=[dict(body()["layers"][1], **changes)])


def _restriction(**changes):
    restriction = {"days": ["mon"], "start": "09:00", "end": "17:00", **changes}
    return body(layers=[dict(body()["layers"][0], restrictions=[restriction])])


@pytest.mark.parametrize(
    ("case", "data", "path"),
    [
        ("unknown zone", body(time_zone="Mars/Olympus"), ["time_zone"]),
        ("zone as a path", body(time_zone="../../etc/passwd"), ["time_zone"]),
        ("missing name", {k: v for k, v in body().items() if k != "name"}, ["name"]),
        ("missing team", {k: v for k, v in body().items() if k != "team"}, ["team"]),
        ("unknown team", body(team="nope"), ["team"]),
        ("other team", body(team="other"), ["team"]),
        ("empty participants", _layer_change(participants=[]), ["layers", "0", "participants"]),
        ("unknown user", _layer_change(participants=["ghost"]), ["layers", "0", "participants"]),
        ("not in team", _layer_change(participants=["outsider"]), ["layers", "0", "participants"]),
        ("every zero", _layer_change(rotation={"unit": "days", "every": 0}), ["layers", "0"]),
        ("bad unit", _layer_change(rotation={"unit": "months", "every": 1}), ["layers", "0"]),
        (
            "handoff with offset",
            _layer_change(handoff_start="2026-03-23T09:00+01:00"),
            ["layers", "0", "handoff_start"],
        ),
        ("handoff garbage", _layer_change(handoff_start="soon"), ["layers", "0", "handoff_start"]),
        (
            "end before start",
            _layer_change(end="2026-03-01T09:00"),
            ["layers", "0", "end"],
        ),
        ("restriction end = start", _restriction(end="09:00"), ["layers", "0", "restrictions"]),
        ("bad day name", _restriction(days=["monday"]), ["layers", "0", "restrictions"]),
        ("no days", _restriction(days=[]), ["layers", "0", "restrictions"]),
        ("bad time", _restriction(start="25:00"), ["layers", "0", "restrictions"]),
        ("unknown key", body(layer=[]), ["layer"]),
        ("typo in a layer", _layer_change(restriction=[]), ["layers", "0", "restriction"]),
        (
            "duplicate layer names",
            body(layers=[body()["layers"][1], body()["layers"][1]]),
            ["layers", "1", "name"],
        ),
        ("negative notice", body(handoff_notice_seconds=-1), ["handoff_notice_seconds"]),
        ("layers not a list", body(layers="primary"), ["layers"]),
    ],
)
def test_it_rejects_bad_input_naming_the_field(manager_client, case, data, path):
    response = post(manager_client, data)
    assert response.status_code == 400, (case, response.content)
    errors = response.json()
    for key in path:
        errors = errors[key]
    assert errors, case
    assert Schedule.objects.count() == 0


def test_it_rejects_a_non_json_body(manager_client):
    response = manager_client.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert Schedule.objects.count() == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-03-28T00:00:00", "end": "2026-03-29T00:00:00Z"}, "start"),
        ({"start": "2026-03-28T00:00:00Z", "end": "2026-03-29T00:00:00"}, "end"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-03-28T00:00:00Z", "end": "2026-03-27T00:00:00Z"}, "end"),
        ({"start": "2026-01-01T00:00:00Z", "end": "2027-01-03T00:00:00Z"}, "end"),
    ],
)
@pytest.mark.parametrize("endpoint", ["shifts", "gaps"])
def test_it_rejects_bad_ranges(created, manager_client, endpoint, params, field):
    response = manager_client.get(f"{URL}{created['id']}/{endpoint}", params)
    assert response.status_code == 400
    assert field in response.json()


def test_it_rejects_a_naive_instant_for_oncall(created, manager_client):
    response = manager_client.get(f"{URL}{created['id']}/oncall", {"at": "2026-03-29T09:00"})
    assert response.status_code == 400
    assert "at" in response.json()


def test_it_accepts_an_offset_whose_plus_was_not_url_encoded(created, manager_client):
    response = manager_client.get(
        f"{URL}{created['id']}/oncall?at=2026-03-30T09:00:00+02:00"  # "+" decodes to " "
    )
    assert response.status_code == 200
    assert response.json()["at"] == "2026-03-30T07:00:00Z"


def test_it_lets_viewers_read_but_not_configure(created, client, users):
    client.force_login(users["viewer"])
    url = f"{URL}{created['id']}/"
    assert client.get(url).status_code == 200
    assert client.get(f"{url}shifts").status_code == 200
    assert send(client, "patch", url, {"name": "x"}).status_code == 403
    assert client.delete(url).status_code == 403
    assert post(client, body()).status_code == 403


def test_it_does_not_let_responders_configure(created, client, users):
    client.force_login(users["responder"])
    assert send(client, "patch", f"{URL}{created['id']}/", {"name": "x"}).status_code == 403
    assert Schedule.objects.get().name == "Payments primary"


def test_it_answers_404_to_outsiders_everywhere(created, client, users):
    client.force_login(users["outsider"])
    base = f"{URL}{created['id']}/"
    for url in (base, f"{base}shifts", f"{base}oncall", f"{base}gaps", f"{base}overrides/"):
        assert client.get(url).status_code == 404, url
    assert send(client, "patch", base, {"name": "x"}).status_code == 404
    assert client.delete(base).status_code == 404
    assert client.get(URL).json()["results"] == []


def test_it_needs_a_login(client, created):
    client.logout()
    # 401 with token auth configured (it sends WWW-Authenticate), 403 with sessions only.
    assert client.get(URL).status_code in {401, 403}
    assert client.get(f"{URL}{created['id']}/shifts").status_code in {401, 403}


def test_it_keeps_the_list_query_count_flat_as_schedules_grow(
    manager_client, django_assert_max_num_queries
):
    post(manager_client, body())
    with django_assert_max_num_queries(10) as first:
        response = manager_client.get(URL)
    assert response.json()["count"] == 1
    count = len(first.captured_queries)  # read now: each request resets the query log
    for index in range(4):
        post(manager_client, body(name=f"Schedule {index}"))
    with django_assert_max_num_queries(count):
        response = manager_client.get(URL)
    assert response.json()["count"] == 5
    assert all(len(item["layers"]) == 2 for item in response.json()["results"])
