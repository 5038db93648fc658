"""Invitations: a manager of a team (or staff) asks someone by email to join, optionally to
a team with a role; the email carries a one-time link (core.tokens: 256 random bits, only
the SHA-256 stored, compared in constant time) to a page where they choose a username and a
password, which creates their account, signs them in and makes them a member.

A link works once, until PAGERLINE_INVITATION_DAYS have passed, and not after the
invitation was revoked or resent (resending mints a new token). The page (views_invitations)
and the API (api_invitations) both call these functions; tests in
oncall/tests/test_invitations*.py.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.accounts import account_errors
from core.audit import audit_record
from core.errors import FieldErrors
from core.tokens import token_digest, token_matches, token_mint, token_plausible
from oncall.models import Invitation, Membership, Role, Team
from oncall.permissions import can_manage, can_view

PATH = "/invite/{token}/"


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


def link_for(token: str) -> str:
    return settings.PAGERLINE_BASE_URL + PATH.format(token=token)


# --- who sees and changes which invitations -----------------------------------------------------


def manages_any_team(user) -> bool:
    """May invite at all: staff, or the manager of some team."""
    if not user.is_authenticated:
        return False
    return user.is_staff or Membership.objects.filter(user=user, role=Role.MANAGER).exists()


def invitations_for(user) -> QuerySet[Invitation]:
    """What the user may list: everything for staff; otherwise the invitations to the teams
    they manage, and those they sent."""
    found = Invitation.objects.select_related("team", "invited_by", "accepted_by")
    if not user.is_authenticated:
        return found.none()
    if user.is_staff:
        return found
    managed = Membership.objects.filter(user=user, role=Role.MANAGER).values("team_id")
    return found.filter(Q(team_id__in=managed) | Q(invited_by=user))


def invitation_for_change(*, user, invitation_id: int) -> Invitation:
    """The invitation `user` may resend or revoke. Raises Invitation.DoesNotExist when they
    may not know it exists (another team's), PermissionDenied when they see its team but
    do not manage it."""
    invitation = Invitation.objects.select_related("team").get(pk=invitation_id)
    if user.is_staff or invitation.invited_by_id == user.pk:
        return invitation
    if invitation.team_id is not None and can_manage(user, invitation.team_id):
        return invitation
    if invitation.team_id is not None and can_view(user, invitation.team_id):
        raise PermissionDenied("only the team's managers change its invitations")
    raise Invitation.DoesNotExist


# --- sending ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """An invitation and whether its email left: `error` says why not (the invitation
    stays, and can be resent)."""

    invitation: Invitation
    error: str = ""


def _send(invitation: Invitation, token: str) -> str:
    context = {
        "invitation": invitation,
        "link": link_for(token),
        "inviter": invitation.invited_by.get_username() if invitation.invited_by else "",
        "days": settings.PAGERLINE_INVITATION_DAYS,
    }
    team = f" the {invitation.team.name} team on" if invitation.team_id else ""
    try:
        send_mail(
            subject=f"You are invited to{team} Pagerline",
            message=render_to_string("email/invitation.txt", context),
            from_email=None,
            recipient_list=[invitation.email],
        )
    except (OSError, smtplib.SMTPException) as exc:
        return f"the email could not be sent ({exc}); resend it later"
    return ""


# --- writes -------------------------------------------------------------------------------------


def invitation_create(
    *,
    actor,
    email: str,
    team: Team | None = None,
    role: str = Role.RESPONDER,
    now: datetime | None = None,
) -> Sent:
    """Invite `email` (to `team` as `role`) and email them the link. Managers invite to the
    teams they manage; staff also without a team."""
    now = _now(now)
    email = (email or "").strip()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter an email address, e.g. someone@example.com."
    if role not in Role.values:
        errors["role"] = f"Choose one of {', '.join(Role.values)}."
    # No actor: the command line (provisioning), whose operator runs the server.
    if team is None and actor is not None and not actor.is_staff:
        errors["team"] = "Choose the team to invite them to."
    if team is not None and actor is not None and not can_manage(actor, team):
        raise PermissionDenied("only the team's managers invite to it")
    if "email" not in errors:
        taken = get_user_model().objects.filter(email__iexact=email, is_active=True).first()
        if taken is not None and invited_placeholder(email) is None:
            errors["email"] = (
                f"{email} already has an account ({taken.get_username()}); "
                "add them to the team instead."
            )
        elif Invitation.objects.filter(
            email__iexact=email,
            team=team,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            errors["email"] = f"{email} is invited already; resend that invitation instead."
    if errors:
        raise FieldErrors(errors)
    token, digest = token_mint()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            email=email,
            team=team,
            role=role,
            token_hash=digest,
            invited_by=actor,
            created_at=now,
            sent_at=now,
            expires_at=now + timedelta(days=settings.PAGERLINE_INVITATION_DAYS),
        )
        audit_record(
            actor=actor,
            action="invitation.created",
            obj=invitation,
            team_id=invitation.team_id,
            summary=f"Invited {email}" + (f" to {team.name} as {role}" if team else ""),
        )
    return Sent(invitation, _send(invitation, token))


def invitation_resend(*, actor, invitation: Invitation, now: datetime | None = None) -> Sent:
    """A new link (the old one stops working) and a new expiry, emailed again."""
    now = _now(now)
    token, digest = token_mint()
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        state = locked.state_at(now)
        if state in ("accepted", "revoked"):
            raise FieldErrors({"invitation": f"This invitation was {state}; it cannot be resent."})
        locked.token_hash = digest
        locked.sent_at = now
        locked.expires_at = now + timedelta(days=settings.PAGERLINE_INVITATION_DAYS)
        locked.save(update_fields=["token_hash", "sent_at", "expires_at"])
        audit_record(
            actor=actor,
            action="invitation.resent",
            obj=locked,
            team_id=locked.team_id,
            summary=f"Invitation of {locked.email} sent again",
        )
    return Sent(locked, _send(locked, token))


def invitation_revoke(*, actor, invitation: Invitation, now: datetime | None = None) -> Invitation:
    """The link stops working. Revoking twice is harmless; an accepted one is refused."""
    now = _now(now)
    with transaction.atomic():
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise FieldErrors({"invitation": "This invitation was accepted already."})
        if locked.revoked_at is None:
            locked.revoked_at = now
            locked.save(update_fields=["revoked_at"])
            audit_record(
                actor=actor,
                action="invitation.revoked",
                obj=locked,
                team_id=locked.team_id,
                summary=f"Invitation of {locked.email} revoked",
            )
    return locked


# --- redeeming ----------------------------------------------------------------------------------

READY, UNKNOWN, USED, EXPIRED, REVOKED = "ready", "unknown", "used", "expired", "revoked"
STATUS = {READY: 200, UNKNOWN: 404, USED: 410, EXPIRED: 410, REVOKED: 410}
MESSAGES = {
    UNKNOWN: "This invitation link is not valid. Was it copied whole? A resent invitation "
    "has a new link; only the newest works.",
    USED: "This invitation was used already: sign in with the account it created.",
    EXPIRED: "This invitation has expired. Ask the person who invited you to send it again.",
    REVOKED: "This invitation was withdrawn. Ask the person who invited you if that is a mistake.",
}


@dataclass(frozen=True)
class Verdict:
    state: str
    invitation: Invitation | None = None

    @property
    def status(self) -> int:
        return STATUS[self.state]

    @property
    def message(self) -> str:
        return MESSAGES.get(self.state, "")


class InvitationUnusable(Exception):
    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        super().__init__(verdict.message)


def _find(token: str, *, lock: bool = False) -> Invitation | None:
    if not token_plausible(token):
        return None
    found = Invitation.objects.select_related("team", "invited_by")
    if lock:
        found = found.select_for_update(of=("self",))
    found = found.filter(token_hash=token_digest(token)).first()
    if found is None or not token_matches(found.token_hash, token):
        return None
    return found


def _verdict(found: Invitation | None, now: datetime) -> Verdict:
    if found is None:
        return Verdict(UNKNOWN)
    state = found.state_at(now)
    return Verdict({"pending": READY, "accepted": USED}.get(state, state), found)


def invitation_check(*, token: str, now: datetime | None = None) -> Verdict:
    """What the link would do now; reads only (mail scanners fetch links)."""
    return _verdict(_find(token), _now(now))


def invited_user_create(*, email: str):
    """The account of someone provisioning invited (`provision apply --invite`): it exists
    so that schedules and policies can name them, but has no password and has never signed
    in; accepting the invitation sent to `email` gives it its username and password."""
    return get_user_model().objects.create_user(email, email=email, password=None)


def invited_placeholder(email: str):
    """The account invited_user_create made for `email` that nobody has claimed yet."""
    return (
        get_user_model()
        .objects.filter(
            email__iexact=email,
            is_active=True,
            last_login__isnull=True,
            password__startswith=UNUSABLE_PASSWORD_PREFIX,
        )
        .first()
    )


def invitation_accept(
    *,
    token: str,
    username: str,
    password: str,
    password_again: str,
    now: datetime | None = None,
):
    """Create the invited person's account (and membership), once. Raises
    InvitationUnusable for a link that no longer works, FieldErrors for bad input; two
    submissions at once create one account (the invitation row is locked)."""
    now = _now(now)
    User = get_user_model()
    with transaction.atomic():
        verdict = _verdict(_find(token, lock=True), now)
        joined = ""
        if verdict.state != READY:
            raise InvitationUnusable(verdict)
        invitation = verdict.invitation
        username = (username or "").strip()
        placeholder = invited_placeholder(invitation.email)
        errors = account_errors(
            username=username,
            email=invitation.email,
            password=password,
            password_again=password_again,
            except_user=placeholder,
        )
        if errors:
            raise FieldErrors(errors)
        if placeholder is not None:
            # Provisioning put them in rotations already: the account becomes theirs.
            placeholder.username = username
            placeholder.set_password(password)
            placeholder.save(update_fields=["username", "password"])
            user = placeholder
        else:
            user = User.objects.create_user(username, email=invitation.email, password=password)
        if invitation.team_id is not None:
            Membership.objects.get_or_create(
                team_id=invitation.team_id, user=user, defaults={"role": invitation.role}
            )
            joined = f" and joined {invitation.team.name} as {invitation.role}"
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        audit_record(
            actor=user,
            action="invitation.accepted",
            obj=invitation,
            team_id=invitation.team_id,
            summary=f"{username} ({invitation.email}) accepted the invitation{joined}",
        )
    return user
