"""Invitation pages: the managers' list (invite, resend, revoke) and the invited person's
set-password page, end to end through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.utils import timezone

from oncall import invitations
from oncall.models import Invitation, Membership, Role
from oncall.tests.factories import invitation_token_in, make_invitation

PASSWORD = "lantern orbit 1843"
ACCOUNT = {"username": "newcomer", "password": PASSWORD, "password_again": PASSWORD}


def test_invite_email_link_set_password_signed_in(client, team, users, smtp, settings):
    """The whole way, as people do it: the manager's form, the email through SMTP, the link,
    the set-password page, and the newcomer signed in as a member of the team."""
    settings.PAGERLINE_BASE_URL = "http://pager.test"
    client.force_login(users["manager"])
    response = client.post(
        "/invitations/", {"email": "new@example.com", "team": team.slug, "role": Role.RESPONDER}
    )
    assert response.status_code == 302
    listed = client.get("/invitations/").content.decode()
    assert "new@example.com" in listed and "on its way" in listed
    assert smtp.recipients == ["new@example.com"]
    text = smtp.messages[0].get_body(("plain",)).get_content()
    token = invitation_token_in(text)
    assert f"http://pager.test/invite/{token}/" in text
    client.logout()

    page = client.get(f"/invite/{token}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "new@example.com" in body and "Payments" in body
    for name in ("username", "password", "password_again"):
        assert f'<label for="id_{name}">' in body
    done = client.post(f"/invite/{token}/", ACCOUNT)
    assert done.status_code == 302 and done["Location"] == "/"
    dashboard = client.get("/")
    assert dashboard.status_code == 200 and dashboard.context["user"].username == "newcomer"
    user = get_user_model().objects.get(username="newcomer")
    assert Membership.objects.get(user=user, team=team).role == Role.RESPONDER


@pytest.mark.parametrize(
    ("spoil", "status", "text"),
    [
        ("used", 410, "used already"),
        ("expired", 410, "expired"),
        ("revoked", 410, "withdrawn"),
        ("forged", 404, "not valid"),
    ],
)
def test_a_dead_link_gets_a_clear_page_and_changes_nothing(
    client, team, users, spoil, status, text
):
    invitation, token = make_invitation(users["manager"], "new@example.com", team=team)
    if spoil == "used":
        invitations.invitation_accept(
            token=token, username="first", password=PASSWORD, password_again=PASSWORD
        )
    elif spoil == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif spoil == "revoked":
        invitations.invitation_revoke(actor=users["manager"], invitation=invitation)
    else:
        token = token[:-4] + "AAAA"
    users_before = get_user_model().objects.count()
    for response in (client.get(f"/invite/{token}/"), client.post(f"/invite/{token}/", ACCOUNT)):
        assert response.status_code == status
        assert text in response.content.decode()
        assert 'data-role="link-state"' in response.content.decode()
    assert get_user_model().objects.count() == users_before


def test_bad_account_details_show_next_to_the_field(client, team, users):
    _invitation, token = make_invitation(users["manager"], "new@example.com", team=team)
    response = client.post(f"/invite/{token}/", {**ACCOUNT, "password_again": "other 9921 x"})
    assert response.status_code == 400
    assert 'data-field="password_again"' in response.content.decode()
    assert client.get(f"/invite/{token}/").status_code == 200  # still usable


def test_the_manager_resends_and_revokes_from_the_list(client, team, users):
    invitation, old = make_invitation(users["manager"], "new@example.com", team=team)
    client.force_login(users["manager"])
    assert client.post(f"/invitations/{invitation.pk}/resend").status_code == 302
    new = invitation_token_in(mail.outbox[-1].body)
    assert new != old
    assert client.get(f"/invite/{old}/").status_code == 404
    assert client.post(f"/invitations/{invitation.pk}/revoke").status_code == 302
    assert client.get(f"/invite/{new}/").status_code == 410
    listed = client.get("/invitations/").content.decode()
    assert 'data-role="state">revoked' in listed


def test_a_refused_invitation_shows_its_reason_next_to_the_field(client, team, users):
    client.force_login(users["manager"])
    response = client.post(
        "/invitations/", {"email": "nope", "team": team.slug, "role": "responder"}
    )
    assert response.status_code == 400
    assert 'data-field="email"' in response.content.decode()
    assert not Invitation.objects.exists()


def test_people_who_manage_no_team_cannot_invite(client, users):
    client.force_login(users["responder"])
    assert client.get("/invitations/").status_code == 403


def test_the_list_shows_only_the_teams_one_manages(client, team, users):
    make_invitation(users["manager"], "new@example.com", team=team)
    client.force_login(users["outsider"])
    assert "new@example.com" not in client.get("/invitations/").content.decode()
