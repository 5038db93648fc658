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


JSON = "application/json"


def test_any_user_creates_a_team_and_manages_it(client, users):
    client.force_login(users["viewer"])
    response = client.post("/api/v1/teams/", {"name": "Search", "slug": "search"}, JSON)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["slug"], body["time_zone"]) == ("search", "UTC")
    assert body["members"] == [{"username": "viewer", "role": "manager"}]
    refused = client.post("/api/v1/teams/", {"name": "Again", "slug": "search"}, JSON)
    assert refused.status_code == 400
    assert refused.json() == {"slug": ["A team with slug 'search' already exists."]}


def test_managers_add_members_and_change_their_roles_through_the_api(client, users):
    from oncall.tests.factories import make_user

    make_user("dana", email="dana@example.com")
    client.force_login(users["manager"])
    members = "/api/v1/teams/payments/members/"
    response = client.post(members, {"user": "dana@example.com"}, JSON)
    assert response.status_code == 201, response.content
    assert response.json() == {"username": "dana", "role": "responder"}
    assert client.post(members, {"user": "nobody"}, JSON).json() == {
        "user": ["No user with the username or email 'nobody'."]
    }
    response = client.patch(f"{members}dana/", {"role": "manager"}, JSON)
    assert response.json() == {"username": "dana", "role": "manager"}
    assert client.delete(f"{members}manager/").status_code == 204
    # The manager left the team: it is no longer theirs to see.
    assert client.patch(f"{members}dana/", {"role": "viewer"}, JSON).status_code == 404
    client.force_login(users["responder"])
    assert client.patch(f"{members}dana/", {"role": "viewer"}, JSON).status_code == 403


def test_the_api_refuses_to_leave_a_team_without_a_manager(client, users):
    client.force_login(users["manager"])
    response = client.patch("/api/v1/teams/payments/members/manager/", {"role": "responder"}, JSON)
    assert response.status_code == 400
    assert "last manager" in response.json()["role"][0]
    response = client.delete("/api/v1/teams/payments/members/manager/")
    assert response.status_code == 400
    assert "last manager" in response.json()["user"][0]


def test_managers_rename_a_team_and_change_its_zone_through_the_api(client, users):
    from core.models import AuditEntry

    client.force_login(users["manager"])
    url = "/api/v1/teams/payments/"
    response = client.patch(url, {"name": "Payments & Billing", "slug": "billing"}, JSON)
    assert response.status_code == 200, response.content
    body = response.json()
    # The slug names the team in URLs, webhooks and provisioning: it stays.
    assert (body["slug"], body["name"], body["time_zone"]) == (
        "payments", "Payments & Billing", "Europe/Berlin",
    )  # fmt: skip
    assert client.patch(url, {"time_zone": "America/New_York"}, JSON).json()["time_zone"] == (
        "America/New_York"
    )
    refused = client.patch(url, {"time_zone": "Mars/Olympus"}, JSON)
    assert refused.status_code == 400
    assert list(refused.json()) == ["time_zone"]
    assert client.get(url).json()["time_zone"] == "America/New_York"  # unchanged by the refusal
    assert AuditEntry.objects.filter(action="team.updated").count() == 2
    client.force_login(users["responder"])
    assert client.patch(url, {"name": "Mine"}, JSON).status_code == 403
    client.force_login(users["outsider"])
    assert client.patch(url, {"name": "Mine"}, JSON).status_code == 404
