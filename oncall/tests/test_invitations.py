"""Invitations, the service (oncall.invitations): who may invite, the one-time link, and
every way a link stops working."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from core.errors import FieldErrors
from core.tokens import token_digest
from oncall import invitations
from oncall.models import Invitation, Membership, Role
from oncall.tests.factories import invitation_token_in, make_invitation, make_team, make_user

PASSWORD = "lantern orbit 1843"


def _accept(token: str, username: str = "newcomer", **kw):
    return invitations.invitation_accept(
        token=token, username=username, password=PASSWORD, password_again=PASSWORD, **kw
    )


def test_a_manager_invites_to_their_team_and_the_email_carries_the_link(team, users, settings):
    settings.PAGERLINE_BASE_URL = "https://pager.example.org"
    invitation, token = make_invitation(users["manager"], "New@Example.com", team=team)
    message = mail.outbox[-1]
    assert message.to == ["New@Example.com"]
    assert "Payments" in message.subject
    assert f"https://pager.example.org/invite/{token}/" in message.body
    assert "as responder" in message.body
    # Only the hash is kept.
    assert invitation.token_hash == token_digest(token) and token not in invitation.token_hash
    assert invitation.state_at(timezone.now()) == "pending"


def test_accepting_creates_the_account_and_the_membership_once(team, users):
    invitation, token = make_invitation(
        users["manager"], "new@example.com", team=team, role=Role.MANAGER
    )
    user = _accept(token)
    assert user.email == "new@example.com" and user.check_password(PASSWORD) and user.is_active
    assert Membership.objects.get(team=team, user=user).role == Role.MANAGER
    invitation.refresh_from_db()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    with pytest.raises(invitations.InvitationUnusable) as used:
        _accept(token, username="second")
    assert used.value.verdict.state == invitations.USED and used.value.verdict.status == 410
    assert not get_user_model().objects.filter(username="second").exists()


def test_an_expired_link_changes_nothing(team, users):
    now = timezone.now()
    _invitation, token = make_invitation(users["manager"], "new@example.com", team=team, now=now)
    later = now + timedelta(days=7, seconds=1)
    assert invitations.invitation_check(token=token, now=later).state == invitations.EXPIRED
    with pytest.raises(invitations.InvitationUnusable) as expired:
        _accept(token, now=later)
    assert expired.value.verdict.status == 410
    assert "expired" in expired.value.verdict.message
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_a_revoked_link_changes_nothing(team, users):
    invitation, token = make_invitation(users["manager"], "new@example.com", team=team)
    invitations.invitation_revoke(actor=users["manager"], invitation=invitation)
    with pytest.raises(invitations.InvitationUnusable) as revoked:
        _accept(token)
    assert revoked.value.verdict.state == invitations.REVOKED
    assert not get_user_model().objects.filter(username="newcomer").exists()
    with pytest.raises(FieldErrors):
        invitations.invitation_resend(actor=users["manager"], invitation=invitation)


@pytest.mark.parametrize("forged", ["", "x" * 43, "x" * 5000, "../../etc/passwd"])
def test_a_forged_token_is_unknown(team, users, forged):
    make_invitation(users["manager"], "new@example.com", team=team)
    assert invitations.invitation_check(token=forged).status == 404
    with pytest.raises(invitations.InvitationUnusable):
        _accept(forged)
    assert not get_user_model().objects.filter(username="newcomer").exists()


def test_resending_kills_the_old_link_and_starts_the_time_again(team, users):
    now = timezone.now()
    invitation, old = make_invitation(users["manager"], "new@example.com", team=team, now=now)
    later = now + timedelta(days=6)
    invitations.invitation_resend(actor=users["manager"], invitation=invitation, now=later)
    new = invitation_token_in(mail.outbox[-1].body)
    assert new != old
    assert invitations.invitation_check(token=old, now=later).state == invitations.UNKNOWN
    assert (
        invitations.invitation_check(token=new, now=later + timedelta(days=6)).state
        == invitations.READY
    )


def test_who_may_invite_where(team, users):
    other = make_team(slug="other-2", name="Elsewhere")
    with pytest.raises(PermissionDenied):
        invitations.invitation_create(actor=users["manager"], email="a@example.com", team=other)
    with pytest.raises(PermissionDenied):
        invitations.invitation_create(actor=users["viewer"], email="a@example.com", team=team)
    with pytest.raises(FieldErrors) as no_team:
        invitations.invitation_create(actor=users["manager"], email="a@example.com")
    assert "team" in no_team.value.errors
    staff = make_user("root", is_staff=True)
    sent = invitations.invitation_create(actor=staff, email="a@example.com")
    assert sent.invitation.team is None and sent.error == ""
    assert not Invitation.objects.filter(team=other).exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter an email address"),
        ("viewer@example.com", "already has an account"),
        ("twice@example.com", "invited already"),
    ],
)
def test_a_refused_invitation_names_the_email_field(team, users, email, message):
    users["viewer"].email = "viewer@example.com"
    users["viewer"].save()
    make_invitation(users["manager"], "twice@example.com", team=team)
    before = Invitation.objects.count()
    with pytest.raises(FieldErrors) as refused:
        invitations.invitation_create(actor=users["manager"], email=email, team=team)
    assert message in " ".join(refused.value.errors["email"])
    assert Invitation.objects.count() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "manager"}, "username"),  # taken (by the `users` fixture)
        ({"username": "has space"}, "username"),
        ({"password": "12345678", "password_again": "12345678"}, "password"),
        ({"password_again": "another one 77"}, "password_again"),
    ],
)
def test_bad_account_details_leave_the_invitation_usable(team, users, fields, field):
    _invitation, token = make_invitation(users["manager"], "new@example.com", team=team)
    values = {"username": "newcomer", "password": PASSWORD, "password_again": PASSWORD, **fields}
    with pytest.raises(FieldErrors) as refused:
        invitations.invitation_accept(token=token, **values)
    assert field in refused.value.errors
    assert invitations.invitation_check(token=token).state == invitations.READY
    assert not get_user_model().objects.filter(email="new@example.com").exists()


def test_an_unreachable_mail_server_keeps_the_invitation_to_resend(team, users, smtp):
    smtp.refuse = "550 no such mailbox"
    sent = invitations.invitation_create(actor=users["manager"], email="new@example.com", team=team)
    assert "could not be sent" in sent.error
    assert sent.invitation.pk is not None
    smtp.refuse = None
    again = invitations.invitation_resend(actor=users["manager"], invitation=sent.invitation)
    assert again.error == "" and smtp.recipients == ["new@example.com"]


def test_two_acceptances_at_once_create_one_account(transactional_db):
    team = make_team(slug="race", name="Race")
    manager = make_user("boss")
    Membership.objects.create(team=team, user=manager, role=Role.MANAGER)
    _invitation, token = make_invitation(manager, "new@example.com", team=team)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def accept(name: str) -> None:
        try:
            start.wait()
            _accept(token, username=name)
            outcomes.append("created")
        except invitations.InvitationUnusable as exc:
            outcomes.append(exc.verdict.state)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", invitations.USED]
    assert get_user_model().objects.filter(email="new@example.com").count() == 1
