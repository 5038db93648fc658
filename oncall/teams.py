"""Writes for teams and their members: creating a team (its creator becomes its manager),
adding an existing user, changing a member's role, removing one. The team pages and the API
call these, so each rule (a team always keeps a manager; a user is added once) lives here.
A refusal is ``core.errors.FieldErrors``; every change is audited for the team's managers."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.audit import audit_record, diff
from core.errors import FieldErrors
from oncall.models import LayerParticipant, Membership, Override, Role, Team
from oncall.permissions import MANAGING_ROLES
from oncall.services import is_time_zone

_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 50


def _team_errors(*, name: str, slug: str, time_zone: str, team: Team | None = None) -> dict:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "A team needs a name."
    elif len(name.strip()) > 200:
        errors["name"] = "At most 200 characters."
    if not slug:
        errors["slug"] = "A team needs a slug (it names the team in URLs and the API)."
    elif len(slug) > SLUG_MAX or not _SLUG.fullmatch(slug):
        errors["slug"] = (
            f"Use at most {SLUG_MAX} lowercase letters, digits and single hyphens "
            "(e.g. payments-eu)."
        )
    elif Team.objects.filter(slug=slug).exclude(pk=getattr(team, "pk", None)).exists():
        errors["slug"] = f"A team with slug {slug!r} already exists."
    if not is_time_zone(time_zone):
        errors["time_zone"] = f"Unknown IANA time zone {time_zone!r} (e.g. 'Europe/Berlin')."
    return errors


@transaction.atomic
def team_create(
    *, actor, name: str, slug: str, time_zone: str = "UTC", add_creator: bool = True
) -> Team:
    """A new team with ``actor`` as its first manager: any signed-in user may start one.
    Provisioning (``add_creator=False``) adds the members its document lists instead."""
    errors = _team_errors(name=name or "", slug=slug or "", time_zone=time_zone or "")
    if errors:
        raise FieldErrors(errors)
    try:
        # A savepoint, so a concurrent create of the same slug is answered like the check above.
        with transaction.atomic():
            team = Team.objects.create(slug=slug, name=name.strip(), time_zone=time_zone)
    except IntegrityError:
        raise FieldErrors({"slug": f"A team with slug {slug!r} already exists."}) from None
    summary = f"team {team.name!r} created"
    if add_creator:
        Membership.objects.create(team=team, user=actor, role=Role.MANAGER)
        summary += f"; {actor.get_username()} is its manager"
    audit_record(
        actor=actor,
        action="team.created",
        obj=team,
        team_id=team.pk,
        summary=summary,
        changes={"name": team.name, "slug": team.slug, "time_zone": team.time_zone},
    )
    return team


def team_check(*, name: str, slug: str, time_zone: str, team: Team | None = None) -> None:
    """Raise FieldErrors for what team_create (or, with ``team``, team_update) refuses."""
    errors = _team_errors(name=name or "", slug=slug or "", time_zone=time_zone or "", team=team)
    if errors:
        raise FieldErrors(errors)


@transaction.atomic
def team_update(*, actor, team: Team, name: str, time_zone: str) -> Team:
    """A new name or time zone (the slug names the team in URLs and stays)."""
    team_check(name=name, slug=team.slug, time_zone=time_zone, team=team)
    before = {"name": team.name, "time_zone": team.time_zone}
    team.name, team.time_zone = name.strip(), time_zone
    team.save(update_fields=["name", "time_zone"])
    audit_record(
        actor=actor,
        action="team.updated",
        obj=team,
        team_id=team.pk,
        summary=f"team {team.name!r} updated",
        changes=diff(before, {"name": team.name, "time_zone": team.time_zone}),
    )
    return team


def find_user(identifier: str):
    """The user a manager means by a username or an email address (either, case-insensitive
    for the email), or FieldErrors on ``user`` saying why none was chosen."""
    identifier = (identifier or "").strip()
    if not identifier:
        raise FieldErrors({"user": "Enter the username or email address of an existing user."})
    users = get_user_model().objects.filter(is_active=True)
    found = users.filter(username=identifier).first()
    if found is not None:
        return found
    if "@" in identifier:
        matches = list(users.filter(email__iexact=identifier)[:2])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise FieldErrors(
                {"user": f"Several users have the email {identifier!r}: enter a username."}
            )
    raise FieldErrors({"user": f"No user with the username or email {identifier!r}."})


def team_member(team: Team, username: str) -> Membership | None:
    """`username`'s membership of `team`, with both loaded; None when not a member."""
    return (
        Membership.objects.filter(team=team, user__username=username)
        .select_related("user", "team")
        .first()
    )


def _role(value) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise FieldErrors(
            {"role": f"Unknown role {value!r}; expected one of {', '.join(Role.values)}."}
        ) from None


@transaction.atomic
def membership_add(*, actor, team: Team, user, role=Role.RESPONDER) -> Membership:
    role = _role(role)
    if Membership.objects.filter(team=team, user=user).exists():
        raise FieldErrors({"user": f"{user.get_username()} is already a member of {team.name}."})
    try:
        with transaction.atomic():
            membership = Membership.objects.create(team=team, user=user, role=role)
    except IntegrityError:
        raise FieldErrors(
            {"user": f"{user.get_username()} is already a member of {team.name}."}
        ) from None
    audit_record(
        actor=actor,
        action="membership.added",
        obj=membership,
        team_id=team.pk,
        summary=f"{user.get_username()} added to {team.name} as {role.label.lower()}",
        changes={"user": user.get_username(), "role": role.value},
    )
    return membership


def _locked(membership: Membership) -> Membership:
    """The membership re-read under a lock, with every manager row of its team locked too:
    two managers demoting each other at once must not both succeed and leave none."""
    managers = Membership.objects.select_for_update().filter(
        team_id=membership.team_id, role__in=MANAGING_ROLES
    )
    list(managers.values_list("pk", flat=True))
    found = (
        Membership.objects.select_for_update()
        .select_related("team", "user")
        .filter(pk=membership.pk)
        .first()
    )
    if found is None:
        raise FieldErrors({"user": "Not a member of this team (any more)."})
    return found


def _keeps_a_manager(membership: Membership, *, field: str) -> None:
    if membership.role not in MANAGING_ROLES:
        return
    others = (
        Membership.objects.filter(team_id=membership.team_id, role__in=MANAGING_ROLES)
        .exclude(pk=membership.pk)
        .exists()
    )
    if not others:
        raise FieldErrors(
            {
                field: f"{membership.user.get_username()} is the last manager of "
                f"{membership.team.name}: make someone else a manager first."
            }
        )


@transaction.atomic
def membership_set_role(*, actor, membership: Membership, role) -> Membership:
    role = _role(role)
    membership = _locked(membership)
    if membership.role == role:
        return membership
    if role not in MANAGING_ROLES:
        _keeps_a_manager(membership, field="role")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.role_changed",
        obj=membership,
        team_id=membership.team_id,
        summary=f"{membership.user.get_username()} in {membership.team.name}: "
        f"{Role(before).label.lower()} -> {role.label.lower()}",
        changes={"role": [before, role.value]},
    )
    return membership


def _still_on_call(membership: Membership) -> None:
    """A member in a rotation (or with an override to come) of the team's schedules would
    keep being put on call after leaving, where schedules only take members: refused, naming
    the schedule to change first."""
    user_id, team_id = membership.user_id, membership.team_id
    layer = (
        LayerParticipant.objects.filter(user_id=user_id, layer__schedule__team_id=team_id)
        .select_related("layer__schedule")
        .order_by("layer__schedule__name", "layer__position")
        .first()
    )
    override = (
        Override.objects.filter(user_id=user_id, schedule__team_id=team_id, end__gt=timezone.now())
        .select_related("schedule")
        .order_by("start")
        .first()
    )
    name = membership.user.get_username()
    if layer is not None:
        raise FieldErrors(
            {
                "user": f"{name} is in layer {layer.layer.name!r} of schedule "
                f"{layer.layer.schedule.name!r}: take them out of its rotation first."
            }
        )
    if override is not None:
        raise FieldErrors(
            {
                "user": f"{name} has an override to come on schedule {override.schedule.name!r}: "
                "remove it first."
            }
        )


@transaction.atomic
def membership_remove(*, actor, membership: Membership) -> None:
    membership = _locked(membership)
    _keeps_a_manager(membership, field="user")
    _still_on_call(membership)
    username = membership.user.get_username()
    audit_record(
        actor=actor,
        action="membership.removed",
        obj=membership,
        team_id=membership.team_id,
        summary=f"{username} removed from {membership.team.name}",
        changes={"user": username, "role": membership.role},
    )
    membership.delete()
