import pytest

pytestmark = pytest.mark.django_db


def test_it_lists_only_the_users_teams(client, users):
    client.force_login(users["viewer"])
    assert [t["slug"] for t in client.get("/api/v1/teams/").json()["results"]] == ["payments"]
    client.force_login(users["outsider"])
    assert [t["slug"] for t in client.get("/api/v1/teams/").json()["results"]] == ["other"]


def test_it_shows_members_and_roles(client, users):
    client.force_login(users["viewer"])
    team = client.get("/api/v1/teams/payments/").json()
    assert team["time_zone"] == "Europe/Berlin"
    assert sorted((m["username"], m["role"]) for m in team["members"]) == [
        ("manager", "manager"),
        ("responder", "responder"),
        ("viewer", "viewer"),
    ]


def test_outsiders_and_anonymous_get_nothing(client, users):
    client.force_login(users["outsider"])
    assert client.get("/api/v1/teams/payments/").status_code == 404
    client.logout()
    assert client.get("/api/v1/teams/").status_code == 401
