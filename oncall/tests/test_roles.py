"""Who may do what in a team (oncall/permissions.py): a viewer reads, a responder responds
(acknowledges incidents, puts themselves on call) but does not manage, a manager manages,
staff may do everything; `selectors.managed_teams` is the one "teams this user manages"
query, and the audit log shows managers their teams' entries through it.

Incident actions check the same `can_respond` (incidents/tests/timeline/test_actions.py,
test_who_responds.py); the pages and APIs are held to these roles by
tests/test_access_matrix.py."""

import pytest
from django.contrib.auth.models import AnonymousUser

from core.audit import audit_record
from oncall import permissions, selectors
from oncall.audit import audit_for
from oncall.models import Membership, Role, Team

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("admin", is_staff=True)


def test_the_role_sets_follow_the_order_of_roles():
    assert sorted(permissions.RESPONDING_ROLES) == [Role.MANAGER, Role.RESPONDER]
    assert sorted(permissions.MANAGING_ROLES) == [Role.MANAGER]


def test_a_viewer_sees_but_cannot_respond_or_manage(team, users):
    viewer = users["viewer"]
    assert permissions.role_in(viewer, team) == Role.VIEWER
    assert permissions.can_view(viewer, team)
    assert not permissions.can_respond(viewer, team)
    assert not permissions.can_manage(viewer, team)
    assert not permissions.can_override_for(viewer, team, viewer)


def test_a_responder_responds_but_does_not_manage(team, users):
    responder = users["responder"]
    assert permissions.role_in(responder, team.pk) == Role.RESPONDER
    assert permissions.can_view(responder, team)
    assert permissions.can_respond(responder, team)
    assert permissions.can_respond(responder, team.pk)
    assert not permissions.can_manage(responder, team)
    assert permissions.can_override_for(responder, team, responder)
    assert not permissions.can_override_for(responder, team, users["viewer"])
    assert not permissions.can_override_for(responder, team, None)


def test_a_manager_manages_and_responds(team, users):
    manager = users["manager"]
    assert permissions.role_in(manager, team) == Role.MANAGER
    assert permissions.can_respond(manager, team)
    assert permissions.can_manage(manager, team)
    assert permissions.can_manage(manager, team.pk)
    assert permissions.can_override_for(manager, team, users["viewer"])


def test_an_outsider_or_anonymous_has_no_role(team, users):
    for who in (users["outsider"], AnonymousUser()):
        assert permissions.role_in(who, team) is None
        assert not permissions.can_view(who, team)
        assert not permissions.can_respond(who, team)
        assert not permissions.can_manage(who, team)


def test_staff_may_do_everything_without_a_membership(team, staff):
    assert permissions.role_in(staff, team) is None
    assert permissions.can_view(staff, team)
    assert permissions.can_respond(staff, team)
    assert permissions.can_manage(staff, team)


def test_managed_teams_are_exactly_the_teams_a_user_manages(team, users):
    other = Team.objects.get(slug="other")
    third = Team.objects.create(slug="third", name="Third")
    Membership.objects.create(team=third, user=users["responder"], role=Role.MANAGER)
    Membership.objects.create(team=third, user=users["manager"], role=Role.VIEWER)
    assert list(selectors.managed_teams(users["manager"])) == [team]
    assert list(selectors.managed_teams(users["responder"])) == [third]
    assert list(selectors.managed_teams(users["viewer"])) == []
    assert list(selectors.managed_teams(users["outsider"])) == [other]
    assert list(selectors.managed_teams(AnonymousUser())) == []


def test_staff_manage_every_team_in_name_order(team, users, staff):
    Team.objects.create(slug="alpha", name="Alpha")
    assert [t.slug for t in selectors.managed_teams(staff)] == ["alpha", "other", "payments"]


def test_managed_teams_agree_with_can_manage_team_by_team(team, users, staff, django_user_model):
    # A superuser who is not staff gets no more than their memberships, as can_manage says.
    root = django_user_model.objects.create_user("root", is_superuser=True)
    Membership.objects.create(team=team, user=root, role=Role.RESPONDER)
    Team.objects.create(slug="empty", name="Empty")
    teams = list(Team.objects.all())
    for user in [*users.values(), staff, root, AnonymousUser()]:
        managed = set(selectors.managed_teams(user))
        assert managed == {t for t in teams if permissions.can_manage(user, t)}, user


def test_managed_teams_take_one_query(users, django_assert_num_queries):
    with django_assert_num_queries(1):
        list(selectors.managed_teams(users["manager"]))


def test_the_audit_log_shows_the_teams_a_user_manages_and_their_own_changes(team, users, staff):
    other = Team.objects.get(slug="other")

    def record(summary, actor, team_id):
        return audit_record(actor=actor, action="test", obj=None, summary=summary, team_id=team_id)

    record("payments change", users["responder"], team.pk)
    record("other change", users["outsider"], other.pk)
    record("responder's token", users["responder"], None)
    record("manager's token", users["manager"], None)

    def seen(user):
        return {entry.summary for entry in audit_for(user)}

    assert seen(users["manager"]) == {"payments change", "manager's token"}
    assert seen(users["responder"]) == {"responder's token"}
    assert seen(users["viewer"]) == set()
    assert seen(users["outsider"]) == {"other change"}
    everything = {"payments change", "other change", "responder's token", "manager's token"}
    assert seen(staff) == everything
