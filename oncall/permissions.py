"""Who may do what in a team. Roles are ordered: viewer < responder < manager; staff may
do everything. Every view and API checks through these, and every query that asks "who may
respond" or "who manages" filters on the role sets below, so the rule lives in one place
(tested in oncall/tests/test_roles.py)."""

from __future__ import annotations

from oncall.models import Membership, Role, Team

_RANK = {Role.VIEWER: 0, Role.RESPONDER: 1, Role.MANAGER: 2}


def _at_least(minimum: Role) -> frozenset[Role]:
    return frozenset(role for role, rank in _RANK.items() if rank >= _RANK[minimum])


# The roles that may act on a team's incidents (acknowledge, resolve, be assigned or paged:
# a viewer could not acknowledge, so paging one would page nobody) ...
RESPONDING_ROLES = _at_least(Role.RESPONDER)
# ... and the roles that may change its configuration (schedules, policies, maintenance,
# drills) and read its audit log.
MANAGING_ROLES = _at_least(Role.MANAGER)


def role_in(user, team: Team | int) -> Role | None:
    """The user's role in the team, or None when they are not a member."""
    if not user.is_authenticated:
        return None
    team_id = team if isinstance(team, int) else team.pk
    role = (
        Membership.objects.filter(user=user, team_id=team_id).values_list("role", flat=True).first()
    )
    return Role(role) if role else None


def has_role(user, team: Team | int, minimum: Role) -> bool:
    if user.is_authenticated and user.is_staff:
        return True
    role = role_in(user, team)
    return role is not None and _RANK[role] >= _RANK[minimum]


def can_view(user, team: Team | int) -> bool:
    return has_role(user, team, Role.VIEWER)


def can_respond(user, team: Team | int) -> bool:
    return has_role(user, team, Role.RESPONDER)


def can_manage(user, team: Team | int) -> bool:
    return has_role(user, team, Role.MANAGER)


def can_override_for(actor, team: Team | int, user) -> bool:
    """Managers may put anyone on call; responders only themselves (e.g. to swap a shift)."""
    if can_manage(actor, team):
        return True
    return user is not None and user.pk == actor.pk and can_respond(actor, team)
