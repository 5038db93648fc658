"""A Slack DM that carries a bundle (several pages to one person in one message): each
incident listed with its own buttons and, in the text, its own links; "Acknowledge all";
redrawn in place when any of them changes; the auditor catches a lost redraw."""

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.models import Notification, SlackMessage
from incidents.notify import links, message, sending
from incidents.notify.slack import messages
from incidents.tests.factories import make_alert_incident
from incidents.tests.slack_support import (
    block_actions,
    form,
    running_fake_slack,
    signed,
    slack_method,
)
from incidents.timeline import actions

pytestmark = pytest.mark.django_db

SLACK_ID = "U0RESPOND1"
URL = "https://pagerline.example.com"


@pytest.fixture
def slack(settings):
    settings.PAGERLINE_BASE_URL = URL
    yield from running_fake_slack(settings)


def bundle(service, users, count=3):
    """`count` pages of new incidents to the responder's Slack DM, sent as one message.
    Returns the incidents and the row that carried the message."""
    method = slack_method(users["responder"], SLACK_ID)
    now = timezone.now()
    incidents = [
        make_alert_incident(service, now, key=f"k{n}", title=f"Down {n}") for n in range(count)
    ]
    rows = [
        sending.methods_notify(
            methods=[method], reason="escalation", subject="s", text="paged", at=now, incident=i
        )[0]
        for i in incidents
    ]
    assert sending.notification_send(notification_id=rows[0].pk, now=now) == "sent"
    assert Notification.objects.filter(bundled_into=rows[0]).count() == count - 1
    rows[0].refresh_from_db()
    return incidents, rows[0]


def actions_of(body) -> dict[str, list[tuple[str, str | None]]]:
    """{block_id: [(action_id, value), ...]} of the message's buttons."""
    return {
        b["block_id"]: [(e["action_id"], e.get("value")) for e in b["elements"]]
        for b in body["blocks"]
        if b["type"] == "actions"
    }


def link_tokens(text: str) -> list[str]:
    return [part.split("/", 1)[0] for part in text.split(f"{URL}/a/")[1:]]


def test_a_bundle_lists_each_incident_with_its_own_buttons_and_links(service, users, slack):
    incidents, head = bundle(service, users)
    (post,) = slack.calls("chat.postMessage")
    assert post["blocks"][0]["text"]["text"] == "3 incidents need you"
    buttons = actions_of(post)
    for incident in incidents:
        value = str(incident.pk)
        assert buttons[f"incident-{incident.pk}"] == [
            ("acknowledge", value),
            ("resolve", value),
            ("open_incident", None),
        ]
    assert buttons["bundle"] == [("acknowledge_all", str(head.pk))]
    # The text (notifications, clients without blocks) names each one with its links.
    for incident in incidents:
        assert f"#{incident.pk} [critical]" in post["text"]
        assert f"|acknowledge #{incident.pk}>" in post["text"]
        assert f"|resolve #{incident.pk}>" in post["text"]
    tokens = link_tokens(post["text"])
    assert len(tokens) == 6
    for token in tokens:
        assert links.link_check(token=token).state == links.READY
    (kept,) = SlackMessage.objects.all()
    assert (kept.incident_id, kept.ts) == (incidents[0].pk, head.provider_id)


def test_a_bundle_lists_at_most_max_listed_and_counts_the_rest(service, users, slack, monkeypatch):
    monkeypatch.setattr(message, "MAX_LISTED", 2)
    incidents, _ = bundle(service, users, count=4)
    (post,) = slack.calls("chat.postMessage")
    assert post["blocks"][0]["text"]["text"] == "4 incidents need you"
    listed = [k for k in actions_of(post) if k.startswith("incident-")]
    assert listed == [f"incident-{i.pk}" for i in incidents[:2]]
    assert "… and 2 more" in post["blocks"][-2]["elements"][0]["text"]
    assert "... and 2 more" in post["text"]
    assert len(link_tokens(post["text"])) == 4


def test_any_change_redraws_the_bundle_keeping_the_links_still_usable(service, users, slack):
    incidents, head = bundle(service, users)
    first, second, third = incidents
    actions.incident_acknowledge(incident_id=second.pk, user=users["manager"], via="sms")
    assert messages.messages_redraw(incident_ids=[second.pk]) == 1
    (update,) = slack.calls("chat.update")
    assert update["ts"] == head.provider_id
    buttons = actions_of(update)
    assert buttons[f"incident-{second.pk}"] == [
        ("resolve", str(second.pk)),
        ("open_incident", None),
    ]
    assert [a for a, _ in buttons[f"incident-{first.pk}"]][:2] == ["acknowledge", "resolve"]
    assert "Acknowledged by manager via SMS" in update["text"]
    assert f"|acknowledge #{second.pk}>" not in update["text"]
    assert f"|resolve #{second.pk}>" in update["text"]
    assert len(link_tokens(update["text"])) == 5
    assert "bundle" in buttons  # two are still waiting

    for incident in (first, third, second):
        actions.incident_resolve(incident_id=incident.pk, user=users["responder"])
    assert messages.messages_redraw(incident_ids=[first.pk]) == 1
    last = slack.calls("chat.update")[-1]
    assert set(actions_of(last)) == {f"incident-{i.pk}" for i in incidents}
    assert all(b == [("open_incident", None)] for b in actions_of(last).values())
    assert "/a/" not in last["text"]
    assert last["text"].count("Resolved by responder via the web") == 3
    assert messages.messages_redraw(incident_ids=[first.pk]) == 0  # nothing new


def test_a_note_on_one_incident_redraws_nothing(service, users, slack):
    incidents, _ = bundle(service, users)
    actions.incident_add_note(incident_id=incidents[1].pk, user=users["responder"], text="hm")
    assert messages.messages_redraw(incident_ids=[incidents[1].pk]) == 0


def test_the_auditor_redraws_a_bundle_a_lost_task_left_stale(service, users, slack, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 30
    incidents, _ = bundle(service, users)
    actions.incident_acknowledge(incident_id=incidents[2].pk, user=users["responder"])
    now = timezone.now()
    assert messages.messages_audit(now=now) == 0  # its task may still be on its way
    assert messages.messages_audit(now=now + timedelta(seconds=31)) == 1
    assert messages.messages_audit(now=now + timedelta(seconds=62)) == 0
    assert len(slack.calls("chat.update")) == 1


def press_all(client, slack, head, user_id=SLACK_ID):
    payload = block_actions(
        user_id=user_id,
        action_id="acknowledge_all",
        value=str(head.pk),
        response_url=slack.response_url(),
    )
    body = form(payload)
    return client.post(
        "/hooks/slack/interactions",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )


def test_acknowledge_all_acknowledges_what_the_bundle_still_waits_for(
    client, service, users, slack
):
    incidents, head = bundle(service, users)
    actions.incident_resolve(incident_id=incidents[0].pk, user=users["manager"])
    assert press_all(client, slack, head).status_code == 200
    statuses = [type(i).objects.get(pk=i.pk).status for i in incidents]
    assert statuses == ["resolved", "acknowledged", "acknowledged"]
    for incident in incidents[1:]:
        event = incident.events.get(kind="acknowledged")
        assert (event.actor, event.data["via"]) == (users["responder"], "slack")
    (note,) = slack.responses()
    assert note["response_type"] == "ephemeral"
    assert note["text"] == f"Acknowledged 2: #{incidents[1].pk} #{incidents[2].pk}"


def test_acknowledge_all_from_someone_else_changes_nothing(client, service, users, slack):
    incidents, head = bundle(service, users)
    slack_method(users["manager"], "U0MANAGER1")  # linked, and may respond, but not paged
    assert press_all(client, slack, head, user_id="U0MANAGER1").status_code == 200
    assert {type(i).objects.get(pk=i.pk).status for i in incidents} == {"triggered"}
    (note,) = slack.responses()
    assert "nothing was done" in note["text"]
