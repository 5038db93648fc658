"""Overrides through the API: who may add and remove them, validation, and their effect."""

import json
from datetime import datetime

import pytest

from oncall.models import Override
from oncall.tests import factories

pytestmark = pytest.mark.django_db


MISSING = object()


@pytest.fixture
def schedule(team, users):
    # Berlin, daily 09:00 handoffs between manager and responder from Fri 27 March 2026.
    return factories.make_schedule(
        team,
        [
            factories.layer(
                "primary",
                [users["manager"], users["responder"]],
                handoff_start=datetime(2026, 3, 27, 9),
            )
        ],
    )


def url(schedule, suffix=""):
    return f"/api/v1/schedules/{schedule.pk}/overrides/{suffix}"


def add(client, schedule, **data):
    return client.post(url(schedule), json.dumps(data), content_type="application/json")


def oncall(client, schedule, at):
    return client.get(f"/api/v1/schedules/{schedule.pk}/oncall", {"at": at}).json()


def test_it_lets_a_manager_put_anyone_on_call(client, users, schedule):
    client.force_login(users["manager"])
    response = add(
        client,
        schedule,
        user="viewer",
        start="2026-03-29T10:00:00+02:00",
        end="2026-03-29T14:00:00+02:00",
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["user"] == "viewer"
    assert (data["start"], data["end"]) == ("2026-03-29T08:00:00Z", "2026-03-29T12:00:00Z")
    assert data["created_by"] == "manager"
    assert data["replaces"] is None

    during = oncall(client, schedule, "2026-03-29T09:00:00Z")
    assert (during["user"], during["source"]) == ("viewer", "override")
    assert (during["shift_start"], during["shift_end"]) == (data["start"], data["end"])
    assert oncall(client, schedule, "2026-03-29T12:00:00Z")["user"] == "manager"


def test_it_lets_the_latest_created_override_win_where_they_overlap(client, users, schedule):
    client.force_login(users["manager"])
    add(client, schedule, user="viewer", start="2026-03-29T08:00:00Z", end="2026-03-29T12:00:00Z")
    add(client, schedule, user="manager", start="2026-03-29T10:00:00Z", end="2026-03-29T11:00:00Z")
    shifts = client.get(
        f"/api/v1/schedules/{schedule.pk}/shifts",
        {"start": "2026-03-29T08:00:00Z", "end": "2026-03-29T12:00:00Z"},
    ).json()["results"]
    assert [(s["user"], s["start"], s["end"]) for s in shifts] == [
        ("viewer", "2026-03-29T08:00:00Z", "2026-03-29T10:00:00Z"),
        ("manager", "2026-03-29T10:00:00Z", "2026-03-29T11:00:00Z"),
        ("viewer", "2026-03-29T11:00:00Z", "2026-03-29T12:00:00Z"),
    ]


def test_it_applies_a_replacing_override_only_where_that_person_is_on_call(client, users, schedule):
    client.force_login(users["manager"])
    # Sat 28 09:00 CET (08:00Z) - Sun 29 09:00 CEST (07:00Z) is responder's; Sun is manager's.
    response = add(
        client,
        schedule,
        user="viewer",
        replaces="responder",
        start="2026-03-29T00:00:00Z",
        end="2026-03-29T12:00:00Z",
    )
    assert response.json()["replaces"] == "responder"
    assert oncall(client, schedule, "2026-03-29T06:00:00Z")["user"] == "viewer"
    assert oncall(client, schedule, "2026-03-29T08:00:00Z")["user"] == "manager"


def test_it_lets_a_responder_override_only_for_themselves(client, users, schedule):
    client.force_login(users["responder"])
    mine = add(client, schedule, start="2026-03-29T08:00:00Z", end="2026-03-29T09:00:00Z")
    assert mine.status_code == 201
    assert mine.json()["user"] == "responder"  # defaults to the caller
    other = add(
        client, schedule, user="viewer", start="2026-03-29T08:00:00Z", end="2026-03-29T09:00:00Z"
    )
    assert other.status_code == 403
    assert Override.objects.count() == 1


def test_it_lets_a_responder_remove_only_their_own_overrides(client, users, schedule):
    theirs = factories.make_override(
        schedule,
        users["responder"],
        start=datetime.fromisoformat("2026-03-29T08:00:00+00:00"),
        end=datetime.fromisoformat("2026-03-29T09:00:00+00:00"),
    )
    managers = factories.make_override(
        schedule,
        users["manager"],
        start=datetime.fromisoformat("2026-03-29T08:00:00+00:00"),
        end=datetime.fromisoformat("2026-03-29T09:00:00+00:00"),
    )
    client.force_login(users["responder"])
    assert client.delete(url(schedule, f"{managers.pk}/")).status_code == 403
    assert client.delete(url(schedule, f"{theirs.pk}/")).status_code == 204
    assert list(Override.objects.all()) == [managers]

    client.force_login(users["manager"])
    assert client.delete(url(schedule, f"{managers.pk}/")).status_code == 204
    assert client.delete(url(schedule, f"{managers.pk}/")).status_code == 404


def test_it_refuses_overrides_from_viewers_and_outsiders(client, users, schedule):
    window = {"start": "2026-03-29T08:00:00Z", "end": "2026-03-29T09:00:00Z"}
    client.force_login(users["viewer"])
    assert add(client, schedule, **window).status_code == 403
    assert client.get(url(schedule)).status_code == 200
    client.force_login(users["outsider"])
    assert add(client, schedule, **window).status_code == 404
    assert client.get(url(schedule)).status_code == 404
    assert Override.objects.count() == 0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"start": "2026-03-29T08:00:00", "end": "2026-03-29T09:00:00Z"}, "start"),
        ({"start": "2026-03-29T08:00:00Z", "end": "2026-03-29T09:00:00"}, "end"),
        ({"start": "2026-03-29T09:00:00Z", "end": "2026-03-29T08:00:00Z"}, "end"),
        ({"start": "2026-03-29T09:00:00Z", "end": "2026-03-29T09:00:00Z"}, "end"),
        ({"start": "tomorrow", "end": "2026-03-29T09:00:00Z"}, "start"),
        ({"start": MISSING}, "start"),
        ({"user": "ghost"}, "user"),
        ({"user": "outsider"}, "user"),
        ({"replaces": "ghost"}, "replaces"),
        ({"replaces": "outsider"}, "replaces"),
        ({"user": "viewer", "replaces": "viewer"}, "replaces"),
        ({"until": "2026-03-29T09:00:00Z"}, "until"),
    ],
)
def test_it_rejects_bad_overrides_naming_the_field(client, users, schedule, data, field):
    client.force_login(users["manager"])
    body = {"start": "2026-03-29T08:00:00Z", "end": "2026-03-29T09:00:00Z", **data}
    body = {key: value for key, value in body.items() if value is not MISSING}
    response = add(client, schedule, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Override.objects.count() == 0


def test_it_lists_overrides_overlapping_a_range(client, users, schedule):
    client.force_login(users["manager"])
    for day in (28, 29, 30):
        add(
            client,
            schedule,
            user="viewer",
            start=f"2026-03-{day}T10:00:00Z",
            end=f"2026-03-{day}T12:00:00Z",
        )
    response = client.get(
        url(schedule), {"start": "2026-03-29T11:00:00Z", "end": "2026-03-30T10:00:01Z"}
    )
    assert response.status_code == 200
    assert [item["start"] for item in response.json()["results"]] == [
        "2026-03-29T10:00:00Z",
        "2026-03-30T10:00:00Z",
    ]
    one = response.json()["results"][0]
    assert client.get(url(schedule, f"{one['id']}/")).json() == one
