"""/api/v1/invitations/: the same service as the page."""

from __future__ import annotations

from django.core import mail

from oncall.models import Invitation
from oncall.tests.factories import invitation_token_in, make_invitation

URL = "/api/v1/invitations/"


def test_a_manager_invites_through_the_api(client, team, users):
    client.force_login(users["manager"])
    response = client.post(
        URL,
        {"email": "new@example.com", "team": team.slug, "role": "viewer"},
        content_type="application/json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new@example.com" and body["team"] == team.slug
    assert body["role"] == "viewer" and body["state"] == "pending" and body["email_error"] == ""
    assert body["invited_by"] == "manager"
    # The link is only ever in the email.
    token = invitation_token_in(mail.outbox[-1].body)
    assert token not in response.content.decode()


def test_the_list_is_a_page_of_what_the_user_may_see(client, team, users):
    make_invitation(users["manager"], "a@example.com", team=team)
    make_invitation(users["manager"], "b@example.com", team=team)
    client.force_login(users["manager"])
    page = client.get(URL, {"page_size": 1}).json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    client.force_login(users["outsider"])
    assert client.get(URL).json()["count"] == 0


def test_revoke_and_resend(client, team, users):
    invitation, old = make_invitation(users["manager"], "a@example.com", team=team)
    client.force_login(users["manager"])
    resent = client.post(f"{URL}{invitation.pk}/resend")
    assert resent.status_code == 200 and resent.json()["state"] == "pending"
    assert invitation_token_in(mail.outbox[-1].body) != old
    assert client.delete(f"{URL}{invitation.pk}/").status_code == 204
    assert client.get(f"{URL}{invitation.pk}/").json()["state"] == "revoked"
    again = client.post(f"{URL}{invitation.pk}/resend")
    assert again.status_code == 400 and "revoked" in again.json()["invitation"][0]


def test_bad_input_names_the_field(client, team, users):
    client.force_login(users["manager"])
    bad_email = client.post(
        URL, {"email": "nope", "team": team.slug}, content_type="application/json"
    )
    assert bad_email.status_code == 400 and "email" in bad_email.json()
    no_team = client.post(
        URL, {"email": "a@example.com", "team": "no-such-team"}, content_type="application/json"
    )
    assert no_team.status_code == 400 and "team" in no_team.json()
    bad_role = client.post(
        URL,
        {"email": "a@example.com", "team": team.slug, "role": "king"},
        content_type="application/json",
    )
    assert bad_role.status_code == 400 and "role" in bad_role.json()
    assert not Invitation.objects.exists()


def test_others_neither_change_nor_see_a_teams_invitations(client, team, users):
    invitation, _token = make_invitation(users["manager"], "a@example.com", team=team)
    client.force_login(users["outsider"])
    assert client.delete(f"{URL}{invitation.pk}/").status_code == 404
    client.force_login(users["viewer"])
    assert client.delete(f"{URL}{invitation.pk}/").status_code == 403
    assert (
        client.post(
            URL, {"email": "b@example.com", "team": team.slug}, content_type="application/json"
        ).status_code
        == 403
    )
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
