"""A user who leaves is deactivated, not deleted, once they are named in an incident
timeline: deleting them would rewrite the timeline (the database refuses), so the admin
says why and offers deactivation; they can no longer sign in or use API tokens, and stay
named in the timeline. No API deletes users (so none has to refuse it)."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db.models import ProtectedError

from core.models import AuditEntry
from core.services import api_token_create, user_deactivate, user_deletion_refusal
from incidents.models import Incident
from incidents.timeline import actions

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
USERS = "/admin/auth/user/"
REFUSAL = "responder has incident timeline entries, so the account cannot be deleted"


@pytest.fixture
def incident(service, users) -> Incident:
    """An incident the responder acknowledged: they are named in its timeline."""
    incident = actions.incident_create(
        service=service, title="Checkout down", severity="critical", at=T0
    )
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"], at=T0)
    return incident


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_it_says_why_a_user_in_a_timeline_cannot_be_deleted(incident, users):
    refusal = user_deletion_refusal(user=users["responder"])
    assert refusal.startswith(REFUSAL) and "deactivate it instead" in refusal
    assert user_deletion_refusal(user=users["viewer"]) is None


def test_the_model_refuses_before_the_database_would(incident, users):
    # With SET_NULL, Django would UPDATE the events and the database would refuse (a 500).
    with pytest.raises(ProtectedError):
        users["responder"].delete()


def test_the_admin_refuses_to_delete_them_and_says_why(admin_client, incident, users):
    responder = users["responder"]
    for method in (admin_client.get, admin_client.post):
        response = method(f"{USERS}{responder.pk}/delete/", {"post": "yes"}, follow=True)
        assert response.redirect_chain == [(f"{USERS}{responder.pk}/change/", 302)]
        assert any(message.startswith(REFUSAL) for message in _messages(response))
    assert get_user_model().objects.filter(pk=responder.pk).exists()


def test_the_admins_delete_action_refuses_them_too(admin_client, incident, users):
    chosen = [users["responder"].pk, users["viewer"].pk]
    response = admin_client.post(
        USERS,
        {"action": "delete_selected", "_selected_action": chosen, "post": "yes"},
        follow=True,
    )
    assert any(message.startswith(REFUSAL) for message in _messages(response))
    assert get_user_model().objects.filter(pk__in=chosen).count() == 2


def test_the_admin_deactivates_them(admin_client, admin_user, incident, users):
    responder = users["responder"]
    response = admin_client.post(
        USERS, {"action": "deactivate", "_selected_action": [responder.pk]}, follow=True
    )
    assert "1 user(s) deactivated" in _messages(response)[0]
    responder.refresh_from_db()
    assert not responder.is_active
    entry = AuditEntry.objects.get(action="user.deactivated")
    assert (entry.actor, entry.object_id) == (admin_user, str(responder.pk))


def test_deactivating_twice_records_it_once(users):
    assert user_deactivate(user=users["viewer"]) is True
    assert user_deactivate(user=users["viewer"]) is False
    assert AuditEntry.objects.filter(action="user.deactivated").count() == 1


def test_a_user_with_no_timeline_entries_can_still_be_deleted(admin_client, incident, users):
    viewer = users["viewer"]
    assert admin_client.get(f"{USERS}{viewer.pk}/delete/").status_code == 200
    response = admin_client.post(f"{USERS}{viewer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=viewer.pk).exists()


def test_a_deactivated_user_cannot_sign_in_or_use_tokens(client, incident, users):
    responder = users["responder"]
    _, plain = api_token_create(user=responder, name="ci")
    client.force_login(responder)  # a session from before they left
    user_deactivate(user=responder)

    assert client.get(f"/api/v1/incidents/{incident.pk}/").status_code == 401
    assert client.get("/incidents/").status_code == 302  # to the sign-in page
    client.logout()
    response = client.post(
        "/accounts/login/", {"username": "responder", "password": "correct horse 42"}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    bearer = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/me/", headers=bearer).status_code == 401


def test_a_deactivated_user_stays_named_in_the_timeline(client, incident, users):
    user_deactivate(user=users["responder"])
    client.force_login(users["viewer"])
    timeline = client.get(f"/api/v1/incidents/{incident.pk}/timeline/").json()["results"]
    assert [(e["kind"], e["actor"]) for e in timeline][-1] == ("acknowledged", "responder")
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "by responder" in page
