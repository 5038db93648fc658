"""Acknowledge and resolve links (/a/<token>/): a GET shows the incident and changes nothing,
a POST acts as the link's recipient without a login, once; bad tokens get a clear 4xx and
change nothing, never a 5xx. The email transport puts both links in every page."""

import hashlib
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client
from django.utils import timezone

from incidents.models import ActionToken, Incident, IncidentEvent
from incidents.notify import links
from incidents.tests.factories import make_alert_incident
from incidents.timeline import actions
from oncall.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident(service):
    return make_alert_incident(
        service, timezone.now() - timedelta(minutes=5), title="Checkout is down"
    )


def mint(incident, user, action="acknowledge", channel="email", now=None) -> str:
    """The path of a fresh link."""
    url = links.link_mint(
        incident=incident,
        user_id=user.pk,
        action=action,
        channel=channel,
        now=now or timezone.now(),
    )
    return url.removeprefix(django_settings.PAGERLINE_BASE_URL)


def snapshot(incident) -> tuple:
    incident.refresh_from_db()
    used = sorted(ActionToken.objects.values_list("pk", "used_at"))
    return incident.status, incident.last_seq, used


def test_a_get_shows_the_incident_and_changes_nothing(client, users, incident):
    path = mint(incident, users["responder"])
    before = snapshot(incident)
    for _ in range(3):  # a mail scanner, a link preview, the person
        response = client.get(path)
        assert response.status_code == 200
    assert client.head(path).status_code == 200
    page = response.content.decode()
    assert f"#{incident.pk} Checkout is down" in page
    assert "Checkout" in page and "triggered" in page and "critical" in page
    assert f"Acknowledge #{incident.pk}</button>" in page
    assert "csrfmiddlewaretoken" not in page  # the token is the credential
    assert response["Cache-Control"].startswith("max-age=0")
    assert response["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response["X-Robots-Tag"]
    assert snapshot(incident) == before


def test_a_post_acknowledges_as_the_recipient_without_a_login_or_csrf_cookie(users, incident):
    path = mint(incident, users["responder"])
    anonymous = Client(enforce_csrf_checks=True)
    before = timezone.now()
    response = anonymous.post(path)
    after = timezone.now()
    assert response.status_code == 200, response.content
    assert f"Incident #{incident.pk} acknowledged by responder." in response.content.decode()

    incident.refresh_from_db()
    event = incident.events.get(kind="acknowledged")
    assert event.actor == users["responder"] and event.data["via"] == "email"
    token = ActionToken.objects.get()
    # MTTA counts from the moment of the POST.
    assert before <= incident.acknowledged_at == event.at == token.used_at <= after
    # Escalation and the person's page stopped with it.
    assert incident.status == "acknowledged"


def test_the_timeline_says_who_acted_and_through_which_channel(client, users, incident):
    Client().post(mint(incident, users["responder"], channel="email"))
    Client().post(mint(incident, users["manager"], action="resolve", channel="apprise"))
    client.force_login(users["viewer"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "via an email link" in page
    assert "via a link in a chat message" in page
    resolved = incident.events.get(kind="resolved")
    assert resolved.actor == users["manager"] and resolved.data["via"] == "apprise"


def test_a_signed_in_visitor_acts_as_the_links_recipient_not_as_themselves(client, users, incident):
    client.force_login(users["manager"])
    client.post(mint(incident, users["responder"]))
    assert incident.events.get(kind="acknowledged").actor == users["responder"]


def test_a_resolve_link_still_works_after_an_acknowledgement(users, incident):
    resolve = mint(incident, users["responder"], action="resolve")
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
    assert Client().get(resolve).status_code == 200
    response = Client().post(resolve)
    assert response.status_code == 200
    incident.refresh_from_db()
    assert incident.status == "resolved"


def _expired(incident, users):
    return mint(incident, users["responder"], now=timezone.now() - timedelta(hours=25))


def _used(incident, users):
    path = mint(incident, users["responder"], action="resolve")
    Client().post(path)
    actions.incident_reopen(incident_id=incident.pk, user=users["manager"], reason="back")
    return path


def _resolved(incident, users, action="acknowledge"):
    path = mint(incident, users["responder"], action=action)
    actions.incident_resolve(incident_id=incident.pk, user=users["manager"])
    return path


def _acknowledged(incident, users):
    path = mint(incident, users["responder"])
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
    return path


def _resolved_then_reopened(incident, users):
    """Moved past once is moved past: a reopened incident gets new messages, new links."""
    path = mint(incident, users["responder"], action="resolve")
    actions.incident_resolve(incident_id=incident.pk, user=users["manager"])
    actions.incident_reopen(incident_id=incident.pk, user=users["manager"], reason="back")
    return path


def _lost_role(incident, users):
    path = mint(incident, users["responder"])
    Membership.objects.filter(user=users["responder"]).update(role="viewer")
    return path


def _left_team(incident, users):
    path = mint(incident, users["responder"])
    Membership.objects.filter(user=users["responder"]).delete()
    return path


def _deactivated(incident, users):
    path = mint(incident, users["responder"])
    users["responder"].is_active = False
    users["responder"].save()
    return path


def _forged(incident, users):
    path = mint(incident, users["responder"])
    return path[:-6] + ("AAAAA/" if not path.endswith("AAAAA/") else "BBBBB/")


BAD = {
    "unknown": (lambda i, u: "/a/" + "x" * 43 + "/", 404, "not valid"),
    "forged": (_forged, 404, "not valid"),
    "too long": (lambda i, u: "/a/" + "y" * 5000 + "/", 404, "not valid"),
    "odd characters": (lambda i, u: "/a/%E2%98%83%00'\"<b>/", 404, "not valid"),
    "expired": (_expired, 410, "expired"),
    "used": (_used, 410, "already been used"),
    "incident resolved (acknowledge link)": (_resolved, 409, "already resolved by manager"),
    "incident resolved (resolve link)": (
        lambda i, u: _resolved(i, u, "resolve"),
        409,
        "already resolved",
    ),
    "incident acknowledged (acknowledge link)": (_acknowledged, 409, "already acknowledged by"),
    "resolved, then reopened": (_resolved_then_reopened, 409, "already resolved"),
    "recipient lost their role": (_lost_role, 403, "can no longer act"),
    "recipient left the team": (_left_team, 403, "can no longer act"),
    "recipient deactivated": (_deactivated, 403, "can no longer act"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_links_are_refused_clearly_and_change_nothing(users, incident, case):
    make, status, text = BAD[case]
    path = make(incident, users)
    before = snapshot(incident)
    get = Client().get(path)
    post = Client().post(path)
    assert (get.status_code, post.status_code) == (status, status)
    assert text in get.content.decode() and text in post.content.decode()
    assert f"{'Acknowledge' if 'resolve' not in case else 'Resolve'} #" not in post.content.decode()
    assert snapshot(incident) == before
    if status in {403, 404, 410}:
        # The incident is not shown to whoever holds a dead or foreign link.
        assert "Checkout is down" not in get.content.decode()


def test_only_the_hash_is_stored(users, incident):
    path = mint(incident, users["responder"])
    token = path.split("/")[2]
    stored = ActionToken.objects.get()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(list(ActionToken.objects.values()))
    assert len(token) >= 43  # 256 random bits


def test_links_live_as_long_as_configured(users, incident, settings):
    settings.PAGERLINE_ACTION_LINK_HOURS = 2
    now = timezone.now()
    path = mint(incident, users["responder"], now=now - timedelta(hours=2, seconds=1))
    assert ActionToken.objects.get().expires_at == now - timedelta(seconds=1)
    assert Client().get(path).status_code == 410
    assert Client().get(mint(incident, users["responder"], now=now)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_posts_at_once_act_once(users, service):
    incident = make_alert_incident(service, timezone.now())
    path = mint(incident, users["responder"], action="resolve")
    barrier = threading.Barrier(4)
    statuses = []

    def post():
        try:
            barrier.wait()
            statuses.append(Client().post(path).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 410, 410, 410]
    assert IncidentEvent.objects.filter(incident=incident, kind="resolved").count() == 1
    assert Incident.objects.get(pk=incident.pk).status == "resolved"


# --- the email transport ----------------------------------------------------------------------


def test_every_page_email_carries_both_links_for_its_recipient(users, incident, settings):
    from django.core import mail

    from incidents.models import Notification
    from incidents.notify import sending
    from incidents.tests.factories import make_contact_method

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    make_contact_method(users["responder"])
    (row,) = sending.users_notify(
        users=[users["responder"]],
        reason="escalation",
        subject="s",
        text="t",
        at=timezone.now(),
        incident=incident,
    )[users["responder"].pk]
    assert sending.notification_send(notification_id=row.pk) == "sent"
    (message,) = mail.outbox
    base = django_settings.PAGERLINE_BASE_URL
    found = {}
    for line in message.body.splitlines():
        for label in ("Acknowledge", "Resolve"):
            if line.startswith(f"{label}:"):
                found[label] = line.split()[-1].removeprefix(base)
    assert set(found) == {"Acknowledge", "Resolve"}
    html = message.alternatives[0][0]
    assert all(base + path in html for path in found.values())
    tokens = {t.action: t for t in ActionToken.objects.all()}
    assert {t.user_id for t in tokens.values()} == {users["responder"].pk}
    assert {t.channel for t in tokens.values()} == {"email"}
    assert Client().get(found["Resolve"]).status_code == 200
    assert Client().post(found["Acknowledge"]).status_code == 200
    assert Incident.objects.get(pk=incident.pk).status == "acknowledged"
    assert Notification.objects.get().status == "sent"
