"""The rules of teams and members (oncall.teams), which the team pages and the API share:
whoever creates a team manages it, users are added once by username or email, and a team
never loses its last manager."""

import pytest

from core.errors import FieldErrors
from core.models import AuditEntry
from oncall import teams
from oncall.models import Membership, Role
from oncall.tests.factories import make_membership, make_user

pytestmark = pytest.mark.django_db


def test_it_makes_the_creator_manager_of_a_new_team():
    alice = make_user("alice")
    team = teams.team_create(actor=alice, name=" Search ", slug="search", time_zone="Asia/Tokyo")
    assert (team.name, team.slug, team.time_zone) == ("Search", "search", "Asia/Tokyo")
    assert Membership.objects.get(team=team).user == alice
    assert Membership.objects.get(team=team).role == Role.MANAGER
    entry = AuditEntry.objects.get(action="team.created")
    assert entry.team_id == team.pk and entry.actor == alice


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"name": "  "}, "name", "needs a name"),
        ({"slug": ""}, "slug", "needs a slug"),
        ({"slug": "Pay Ments"}, "slug", "lowercase"),
        ({"slug": "payments"}, "slug", "already exists"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "Mars/Olympus"),
    ],
)
def test_it_names_what_is_wrong_with_a_new_team(team, fields, field, words):
    values = {"name": "Search", "slug": "search", "time_zone": "UTC", **fields}
    with pytest.raises(FieldErrors) as refused:
        teams.team_create(actor=make_user("alice"), **values)
    assert words in " ".join(refused.value.errors[field])
    assert not AuditEntry.objects.filter(action="team.created").exists()


def test_it_finds_users_by_username_or_email():
    bob = make_user("bob", email="Bob@Example.com")
    assert teams.find_user("bob") == bob
    assert teams.find_user("bob@example.COM") == bob
    with pytest.raises(FieldErrors) as refused:
        teams.find_user("carol@example.com")
    assert refused.value.errors == {
        "user": ["No user with the username or email 'carol@example.com'."]
    }
    make_user("bob2", email="bob@example.com")
    with pytest.raises(FieldErrors, match="Several users"):
        teams.find_user("bob@example.com")


def test_it_adds_a_user_once(team, users):
    newcomer = make_user("newcomer")
    membership = teams.membership_add(
        actor=users["manager"], team=team, user=newcomer, role="viewer"
    )
    assert membership.role == Role.VIEWER
    assert AuditEntry.objects.get(action="membership.added").changes == {
        "user": "newcomer",
        "role": "viewer",
    }
    with pytest.raises(FieldErrors, match="already a member"):
        teams.membership_add(actor=users["manager"], team=team, user=newcomer)
    with pytest.raises(FieldErrors, match="Unknown role 'owner'"):
        teams.membership_add(actor=users["manager"], team=team, user=make_user("x"), role="owner")


def test_the_last_manager_can_be_neither_demoted_nor_removed(team, users):
    only = Membership.objects.get(team=team, user=users["manager"])
    with pytest.raises(FieldErrors) as refused:
        teams.membership_set_role(actor=users["manager"], membership=only, role="responder")
    assert "last manager of Payments" in refused.value.errors["role"][0]
    with pytest.raises(FieldErrors) as refused:
        teams.membership_remove(actor=users["manager"], membership=only)
    assert "last manager of Payments" in refused.value.errors["user"][0]
    only.refresh_from_db()
    assert only.role == Role.MANAGER


def test_a_manager_steps_down_once_another_manages(team, users):
    responder = Membership.objects.get(team=team, user=users["responder"])
    teams.membership_set_role(actor=users["manager"], membership=responder, role="manager")
    mine = Membership.objects.get(team=team, user=users["manager"])
    teams.membership_set_role(actor=users["manager"], membership=mine, role="viewer")
    assert Membership.objects.get(pk=mine.pk).role == Role.VIEWER
    teams.membership_remove(actor=users["responder"], membership=mine)
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert [e.action for e in AuditEntry.objects.order_by("pk")] == [
        "membership.role_changed",
        "membership.role_changed",
        "membership.removed",
    ]
    assert AuditEntry.objects.filter(action="membership.role_changed").order_by("pk")[
        0
    ].changes == {"role": ["responder", "manager"]}


def test_removing_a_responder_keeps_the_manager(team, users):
    viewer = make_membership(team, make_user("v2"), role=Role.VIEWER)
    teams.membership_remove(actor=users["manager"], membership=viewer)
    assert set(Membership.objects.filter(team=team).values_list("user__username", flat=True)) == {
        "manager",
        "responder",
        "viewer",
    }


def test_someone_still_in_a_rotation_or_an_override_cannot_leave(team, users):
    from datetime import UTC, datetime, timedelta

    from django.utils import timezone

    from oncall.tests.factories import layer, make_override, make_schedule

    make_schedule(
        team,
        [layer("Weekdays", [users["responder"]], handoff_start=datetime(2026, 1, 5, 9))],
        name="Primary",
    )
    responder = Membership.objects.get(team=team, user=users["responder"])
    with pytest.raises(FieldErrors) as refused:
        teams.membership_remove(actor=users["manager"], membership=responder)
    assert refused.value.errors == {
        "user": [
            "responder is in layer 'Weekdays' of schedule 'Primary': take them out of its "
            "rotation first."
        ]
    }
    spare = make_schedule(team, [], name="Spare")
    soon = timezone.now().astimezone(UTC) + timedelta(hours=1)
    make_override(spare, users["viewer"], start=soon, end=soon + timedelta(hours=2))
    viewer = Membership.objects.get(team=team, user=users["viewer"])
    with pytest.raises(FieldErrors, match="override to come on schedule 'Spare'"):
        teams.membership_remove(actor=users["manager"], membership=viewer)
    assert Membership.objects.filter(team=team).count() == 3
