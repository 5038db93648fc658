"""Slack end to end with a real Celery worker and a local stand-in for Slack: an incident
pages its on-call responder by DM and is posted to its service's channel; acknowledging it
in the web UI redraws both messages in place, and resolving it from Slack does again."""

import pytest
from django.utils import timezone

from incidents.models import SlackMessage
from incidents.tests.factories import make_alert_incident, make_policy
from incidents.tests.slack_support import (
    block_actions,
    form,
    running_fake_slack,
    signed,
    slack_method,
    slack_settings,
)
from tests.support import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHANNEL = "C0OPS12345"


@pytest.fixture
def slack(settings):
    yield from running_fake_slack(settings)


def shown(body) -> tuple[list[str], str]:
    """The buttons of a message and what its context line says."""
    buttons = next(b for b in body["blocks"] if b["type"] == "actions")["elements"]
    context = [b for b in body["blocks"] if b["type"] == "context"]
    return [e["action_id"] for e in buttons], context[0]["elements"][0]["text"] if context else ""


def updates(slack, channel: str) -> list[dict]:
    return [body for body in slack.calls("chat.update") if body["channel"] == channel]


def test_acknowledging_in_the_web_ui_redraws_the_slack_messages(
    service, users, slack, make_worker, client
):
    slack_method(users["responder"])
    service.escalation_policy = make_policy(service.team, (0, [users["responder"]]))
    service.slack_channel = CHANNEL
    service.save()
    make_worker(env=slack_settings(slack))

    incident = make_alert_incident(service, timezone.now(), title="InstanceDown")
    wait_for(lambda: SlackMessage.objects.count() == 2, message="DM and channel post not sent")
    posted = {body["channel"] for body in slack.calls("chat.postMessage")}
    assert posted == {"U0RESPOND1", CHANNEL}

    client.force_login(users["manager"])
    answer = client.post(f"/incidents/{incident.pk}/acknowledge")
    assert answer.status_code == 302
    for channel in ("D0RESPOND1", CHANNEL):
        (update,) = wait_for(lambda c=channel: updates(slack, c), message=f"{channel} not redrawn")
        buttons, said = shown(update)
        assert buttons == ["resolve", "open_incident"]
        assert said.startswith("Acknowledged by manager via the web")

    # The responder resolves from the DM: both messages are redrawn again, buttons gone.
    body = form(
        block_actions(
            user_id="U0RESPOND1",
            action_id="resolve",
            value=str(incident.pk),
            response_url=slack.response_url(),
        )
    )
    client.logout()
    answer = client.post(
        "/hooks/slack/interactions",
        data=body,
        content_type="application/x-www-form-urlencoded",
        **signed(body),
    )
    assert answer.status_code == 200
    for channel in ("D0RESPOND1", CHANNEL):
        wait_for(lambda c=channel: len(updates(slack, c)) == 2, message=f"{channel} not redrawn")
        buttons, said = shown(updates(slack, channel)[-1])
        assert buttons == ["open_incident"]
        assert said.startswith("Resolved by responder via Slack")
