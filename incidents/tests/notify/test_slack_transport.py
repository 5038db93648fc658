"""Slack DMs through the transport, to a local stand-in for Slack's Web API: the page with
its buttons and links, the message kept for redrawing, and Slack's failures sorted into
permanent and retried."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from incidents.models import (
    ActionToken,
    Notification,
    NotificationStatus,
    SlackMessage,
)
from incidents.notify import contacts, sending
from incidents.tests.factories import make_alert_incident
from incidents.tests.slack_support import BOT_TOKEN, running_fake_slack, slack_method
from tests.peers import free_port

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def slack(settings):
    yield from running_fake_slack(settings)


def page(method, incident, text="Incident needs you (escalation step 1)"):
    (row,) = sending.methods_notify(
        methods=[method], reason="escalation", subject="s", text=text, at=T0, incident=incident
    )
    return row


def send(row, now=T0) -> str:
    return sending.notification_send(notification_id=row.pk, now=now)


def test_it_dms_the_page_with_buttons_and_the_persons_links(service, users, slack):
    method = slack_method(users["responder"])
    incident = make_alert_incident(service, T0, title="InstanceDown")
    row = page(method, incident)
    assert send(row) == "sent"

    (request,) = [r for r in slack.requests if r["path"] == "/api/chat.postMessage"]
    assert request["headers"]["Authorization"] == f"Bearer {BOT_TOKEN}"
    body = request["body"]
    assert body["channel"] == "U0RESPOND1"
    actions = next(b for b in body["blocks"] if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e.get("value")) for e in actions] == [
        ("acknowledge", str(incident.pk)),
        ("resolve", str(incident.pk)),
        ("open_incident", None),
    ]
    assert "Incident needs you (escalation step 1)" in body["text"]
    tokens = ActionToken.objects.filter(incident=incident, user=users["responder"])
    assert sorted(tokens.values_list("action", "channel")) == [
        ("acknowledge", "slack"),
        ("resolve", "slack"),
    ]
    assert body["text"].count("/a/") == 2

    (kept,) = SlackMessage.objects.all()
    assert (kept.incident_id, kept.channel_id, kept.drawn_seq) == (incident.pk, "D0RESPOND1", 1)
    row.refresh_from_db()
    assert row.provider_id == kept.ts
    assert row.status == NotificationStatus.SENT


@pytest.mark.parametrize(
    ("reply", "retried"),
    [
        ((200, {"ok": False, "error": "channel_not_found"}, {}), False),
        ((200, {"ok": False, "error": "user_not_found"}, {}), False),
        ((200, {"ok": False, "error": "invalid_auth"}, {}), False),
        ((200, {"ok": False, "error": "account_inactive"}, {}), False),
        ((429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "3"}), True),
        ((500, {"ok": False, "error": "fatal_error"}, {}), True),
        ((503, {"ok": False, "error": "service_unavailable"}, {}), True),
    ],
)
def test_slack_failures_are_permanent_or_retried(service, users, slack, reply, retried):
    incident = make_alert_incident(service, T0)
    row = page(slack_method(users["responder"]), incident)
    slack.fail("chat.postMessage", reply)
    assert send(row) == "failed"
    row.refresh_from_db()
    assert reply[1]["error"] in row.error
    assert Notification.objects.filter(retry_of=row).exists() is retried
    assert not SlackMessage.objects.exists()


def test_a_slack_that_does_not_answer_is_retried(service, users, settings):
    settings.SLACK_BOT_TOKEN = BOT_TOKEN
    settings.SLACK_API_BASE_URL = f"http://127.0.0.1:{free_port()}/api/"
    row = page(slack_method(users["responder"]), make_alert_incident(service, T0))
    assert send(row) == "failed"
    row.refresh_from_db()
    assert "Connection refused" in row.error
    assert Notification.objects.filter(retry_of=row).exists()


def test_without_a_bot_token_nothing_is_sent(service, users, settings):
    settings.SLACK_BOT_TOKEN = ""
    row = page(slack_method(users["responder"]), make_alert_incident(service, T0))
    assert send(row) == "failed"
    row.refresh_from_db()
    assert "SLACK_BOT_TOKEN" in row.error
    assert not Notification.objects.filter(retry_of=row).exists()


def test_a_test_page_is_plain_text(users, slack):
    method = slack_method(users["responder"])
    row = contacts.contact_method_test(method=method)
    assert row.status == "sent"
    (body,) = slack.calls("chat.postMessage")
    assert body == {"channel": "U0RESPOND1", "text": row.text}
    assert not SlackMessage.objects.exists()


def test_a_new_slack_method_is_unverified_and_asked_to_confirm(
    users, slack, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        method = contacts.contact_method_create(
            user=users["responder"], kind="slack", address="U0RESPOND1"
        )
    assert method.verified_at is None
    assert not sending.usable_methods(user_ids=[users["responder"].pk]).exists()
    (row,) = Notification.objects.filter(contact_method=method, reason="verify")
    assert send(row, now=timezone.now()) == "sent"
    (body,) = slack.calls("chat.postMessage")
    assert body["channel"] == "U0RESPOND1"
    actions = next(b for b in body["blocks"] if b["type"] == "actions")["elements"]
    assert [(e["action_id"], e["value"]) for e in actions] == [("slack_link", str(method.pk))]
    assert "responder" in body["text"]


@pytest.mark.parametrize(
    "address", ["alice", "@alice", "u0123abcd", "C0123ABCD", "U01", "U0123 ABCD"]
)
def test_only_slack_member_ids_are_accepted(users, address):
    from core.errors import FieldErrors

    with pytest.raises(FieldErrors) as raised:
        contacts.contact_method_create(user=users["responder"], kind="slack", address=address)
    assert "member ID" in str(raised.value)
