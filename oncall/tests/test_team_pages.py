"""The team pages: anyone starts a team and manages it; a team's managers add existing users,
change roles and remove members; members see the team read-only; outsiders learn nothing."""

import re

import pytest

from core.models import AuditEntry
from oncall.models import Membership, Role, Team
from oncall.tests.factories import make_membership, make_user

pytestmark = pytest.mark.django_db

PAGE = "/teams/payments/"


def roles(team="payments") -> dict:
    return dict(Membership.objects.filter(team__slug=team).values_list("user__username", "role"))


def test_it_lists_only_the_users_teams_with_their_role(client, users):
    client.force_login(users["responder"])
    page = client.get("/teams/").content.decode()
    assert 'href="/teams/payments/"' in page and "Responder" in page
    assert "Other team" not in page
    assert 'href="/teams/new"' in page


def test_any_user_creates_a_team_and_manages_it(client):
    client.force_login(make_user("newbie"))
    assert client.get("/teams/new").status_code == 200
    response = client.post("/teams/new", {"name": "Search", "slug": "search", "time_zone": "UTC"})
    assert response.status_code == 302 and response["Location"] == "/teams/search/"
    assert roles("search") == {"newbie": "manager"}
    page = client.get("/teams/search/").content.decode()
    assert "Add a member" in page and "Change role" in page


def test_a_refused_team_shows_the_error_next_to_its_field(client, users):
    client.force_login(users["viewer"])
    response = client.post(
        "/teams/new", {"name": "", "slug": "payments", "time_zone": "Europe/Berlin"}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert re.search(r'data-error="name">A team needs a name', page)
    assert re.search(r"data-error=\"slug\">A team with slug &#x27;payments&#x27; already", page)
    assert Team.objects.count() == 2


def test_a_manager_adds_an_existing_user_by_email(client, users):
    make_user("dana", email="dana@example.com")
    client.force_login(users["manager"])
    response = client.post(f"{PAGE}members/add", {"user": "DANA@example.com", "role": "responder"})
    assert response.status_code == 302
    assert roles()["dana"] == Role.RESPONDER
    assert AuditEntry.objects.filter(
        action="membership.added", team_id=users["manager"].teams.get().pk
    ).exists()


def test_adding_an_unknown_user_says_so_next_to_the_field(client, users):
    client.force_login(users["manager"])
    response = client.post(f"{PAGE}members/add", {"user": "ghost", "role": "viewer"})
    assert response.status_code == 400
    assert re.search(
        r'data-error="user">No user with the username or email &#x27;ghost&#x27;',
        response.content.decode(),
    )


def test_a_manager_changes_roles_and_removes_members(client, users):
    client.force_login(users["manager"])
    response = client.post(f"{PAGE}members/role", {"username": "viewer", "role": "manager"})
    assert response.status_code == 302
    response = client.post(f"{PAGE}members/remove", {"username": "responder"})
    assert response.status_code == 302
    assert roles() == {"manager": "manager", "viewer": "manager"}


def test_the_last_manager_is_told_why_they_cannot_step_down(client, users):
    client.force_login(users["manager"])
    for url, data in (
        (f"{PAGE}members/role", {"username": "manager", "role": "viewer"}),
        (f"{PAGE}members/remove", {"username": "manager"}),
    ):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "manager is the last manager of Payments: make someone else a manager first." in (
            response.content.decode()
        )
    assert roles()["manager"] == "manager"


def test_a_manager_who_leaves_returns_to_the_team_list(client, users):
    client.force_login(users["manager"])
    client.post(f"{PAGE}members/role", {"username": "responder", "role": "manager"})
    response = client.post(f"{PAGE}members/remove", {"username": "manager"})
    assert response["Location"] == "/teams/"
    assert client.get(PAGE).status_code == 404


@pytest.mark.parametrize("who", ["responder", "viewer"])
def test_members_see_the_team_but_cannot_change_it(client, users, who):
    client.force_login(users[who])
    page = client.get(PAGE).content.decode()
    assert "manager" in page and "responder" in page
    assert "Add a member" not in page and "Change role" not in page
    assert client.post(f"{PAGE}members/add", {"user": "outsider"}).status_code == 403
    assert (
        client.post(f"{PAGE}members/role", {"username": who, "role": "manager"}).status_code == 403
    )
    assert client.post(f"{PAGE}members/remove", {"username": "manager"}).status_code == 403
    assert roles()[who] == who and "outsider" not in roles()


def test_outsiders_get_404(client, users):
    client.force_login(users["outsider"])
    assert client.get(PAGE).status_code == 404
    assert client.post(f"{PAGE}members/add", {"user": "outsider"}).status_code == 404
    assert client.post(f"{PAGE}members/remove", {"username": "manager"}).status_code == 404
    assert "outsider" not in roles()


def test_staff_manage_any_team(client, users):
    client.force_login(make_user("root", is_staff=True))
    response = client.post(f"{PAGE}members/add", {"user": "outsider", "role": "viewer"})
    assert response.status_code == 302
    assert roles()["outsider"] == "viewer"


def test_the_team_pages_take_a_fixed_number_of_queries(
    client, users, django_assert_max_num_queries
):
    for n in range(15):
        make_membership(users["manager"].teams.get(), make_user(f"u{n}"))
    client.force_login(users["manager"])
    with django_assert_max_num_queries(12):
        assert client.get(PAGE).status_code == 200
    with django_assert_max_num_queries(10):
        assert client.get("/teams/").status_code == 200
