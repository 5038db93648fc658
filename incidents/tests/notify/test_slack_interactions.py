"""Button presses from Slack at POST /hooks/slack/interactions, signed as Slack signs them:
acknowledge and resolve as the linked Pagerline user, link an account, and a table of bad
input that changes nothing and never answers 5xx."""

import json
import time

import pytest
from django.utils import timezone

from incidents.models import ContactMethod, InboundMessage
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

PATH = "/hooks/slack/interactions"
FORM = "application/x-www-form-urlencoded"
SLACK_ID = "U0RESPOND1"


@pytest.fixture
def slack(settings):
    yield from running_fake_slack(settings)


@pytest.fixture
def incident(service):
    return make_alert_incident(service, timezone.now())


@pytest.fixture
def linked(users):
    """The responder's Slack account, linked."""
    return slack_method(users["responder"], SLACK_ID)


def press(client, slack, *, action="acknowledge", value="1", user_id=SLACK_ID, **options):
    payload = block_actions(
        user_id=user_id,
        action_id=action,
        value=value,
        response_url=slack.response_url(),
        **options,
    )
    body = form(payload)
    return client.post(PATH, data=body, content_type=FORM, **signed(body))


def state(incident) -> tuple:
    incident.refresh_from_db()
    return incident.status, incident.last_seq


def test_a_linked_responder_acknowledges_from_slack(hook_client, slack, incident, linked, users):
    answer = press(hook_client, slack, value=str(incident.pk))
    assert answer.status_code == 200
    assert answer.content == b""
    incident.refresh_from_db()
    assert incident.status == "acknowledged"
    event = incident.events.get(kind="acknowledged")
    assert (event.actor, event.data["via"]) == (users["responder"], "slack")
    (inbound,) = InboundMessage.objects.all()
    assert (inbound.channel, inbound.sender, inbound.user) == ("slack", SLACK_ID, linked.user)
    assert inbound.outcome == f"acknowledged #{incident.pk}"
    assert slack.responses() == []  # the message redraw shows it; no extra note


def test_a_linked_responder_resolves_from_slack(client, slack, incident, linked):
    assert press(client, slack, action="resolve", value=str(incident.pk)).status_code == 200
    incident.refresh_from_db()
    assert incident.status == "resolved"
    assert incident.events.get(kind="resolved").data["via"] == "slack"


def test_an_acknowledged_incident_says_by_whom(client, slack, incident, linked, users):
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"], via="sms")
    before = state(incident)
    assert press(client, slack, value=str(incident.pk)).status_code == 200
    assert state(incident) == before
    (note,) = slack.responses()
    assert note == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": f"Incident #{incident.pk} is already acknowledged by manager via SMS.",
    }


def test_a_replayed_press_does_nothing_twice(client, slack, incident, linked):
    payload = block_actions(
        user_id=SLACK_ID,
        action_id="acknowledge",
        value=str(incident.pk),
        response_url=slack.response_url(),
    )
    body = form(payload)
    headers = signed(body)
    assert client.post(PATH, data=body, content_type=FORM, **headers).status_code == 200
    after_first = state(incident)
    actions.incident_unacknowledge(incident_id=incident.pk, user=linked.user)
    for _ in range(2):  # Slack's retry, or someone replaying the request within 5 minutes
        assert client.post(PATH, data=body, content_type=FORM, **headers).status_code == 200
    assert state(incident) == ("triggered", after_first[1] + 1)
    assert InboundMessage.objects.count() == 1
    assert slack.responses() == []


def test_the_open_button_needs_nothing(client, slack, incident, linked):
    before = state(incident)
    assert press(client, slack, action="open_incident", value="").status_code == 200
    assert state(incident) == before
    assert not InboundMessage.objects.exists()


# --- refusals: a note only the presser sees, nothing changed -------------------------------------


@pytest.mark.parametrize(
    ("who", "says"),
    [
        ("nobody", "not linked to a Pagerline user"),
        ("unverified", "not linked to a Pagerline user"),
        ("disabled", "not linked to a Pagerline user"),
        ("outsider", "is not a responder or manager"),
        ("viewer", "is not a responder or manager"),
    ],
)
def test_who_may_not_respond_is_told_and_nothing_changes(client, slack, incident, users, who, says):
    if who != "nobody":
        slack_method(
            users.get(who, users["responder"]),
            SLACK_ID,
            verified=who != "unverified",
            enabled=who != "disabled",
        )
    before = state(incident)
    assert press(client, slack, value=str(incident.pk)).status_code == 200
    assert state(incident) == before
    (note,) = slack.responses()
    assert note["response_type"] == "ephemeral"
    assert says in note["text"]
    assert InboundMessage.objects.get().outcome == note["text"]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("999999", "no longer exists"),
        ("x", "names no incident"),
        ("99999999999999999999", "names no incident"),
    ],
)
def test_a_press_naming_no_incident_is_told_so(client, slack, incident, linked, value, says):
    assert press(client, slack, value=value).status_code == 200
    (note,) = slack.responses()
    assert says in note["text"]


def test_a_reply_goes_only_to_slacks_own_response_url(client, slack, incident, settings):
    payload = block_actions(
        user_id=SLACK_ID,
        action_id="acknowledge",
        value=str(incident.pk),
        response_url="https://internal.example/hook",
    )
    body = form(payload)
    assert client.post(PATH, data=body, content_type=FORM, **signed(body)).status_code == 200
    assert slack.requests == []


# --- bad requests: a clear 4xx, nothing changed ----------------------------------------------


def _bad_requests(slack, incident_id):
    good = form(
        block_actions(
            user_id=SLACK_ID,
            action_id="acknowledge",
            value=str(incident_id),
            response_url=slack.response_url(),
        )
    )
    now = int(time.time())

    def payload(**changes):
        data = block_actions(
            user_id=SLACK_ID,
            action_id="acknowledge",
            value=str(incident_id),
            response_url=slack.response_url(),
        )
        data.update(changes)
        return form(data)

    return {
        "forged signature": (good, signed(good, secret="not-the-secret"), 403),
        "body changed after signing": (good + b"&x=1", signed(good), 403),
        "stale timestamp": (good, signed(good, timestamp=now - 301), 403),
        "timestamp from the future": (good, signed(good, timestamp=now + 301), 403),
        "no signature": (good, {}, 403),
        "timestamp not a number": (
            good,
            {**signed(good), "HTTP_X_SLACK_REQUEST_TIMESTAMP": "soon"},
            403,
        ),
        "not a form": (b'{"type": "block_actions"}', None, 400),
        "not UTF-8": (b"payload=%ff%fe", None, 400),
        "payload not JSON": (b"payload=%7Bnope", None, 400),
        "payload a list": (b"payload=%5B%5D", None, 400),
        "two payloads": (good + b"&" + good, None, 400),
        "another interaction type": (payload(type="view_submission"), None, 400),
        "no actions": (payload(actions=[]), None, 400),
        "no user": (payload(user=None), None, 400),
        "unknown button": (
            payload(actions=[{"action_id": "delete_everything", "value": "1", "action_ts": "1"}]),
            None,
            400,
        ),
        "no action_ts": (
            payload(actions=[{"action_id": "acknowledge", "value": str(incident_id)}]),
            None,
            400,
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "forged signature",
        "body changed after signing",
        "stale timestamp",
        "timestamp from the future",
        "no signature",
        "timestamp not a number",
        "not a form",
        "not UTF-8",
        "payload not JSON",
        "payload a list",
        "two payloads",
        "another interaction type",
        "no actions",
        "no user",
        "unknown button",
        "no action_ts",
    ],
)
def test_bad_requests_get_a_clear_4xx_and_change_nothing(
    hook_client, slack, incident, linked, case
):
    body, headers, status = _bad_requests(slack, incident.pk)[case]
    headers = signed(body) if headers is None else headers
    before = state(incident)
    answer = hook_client.post(PATH, data=body, content_type=FORM, **headers)
    assert answer.status_code == status
    assert json.loads(answer.content)["detail"]
    assert state(incident) == before
    assert not InboundMessage.objects.exists()
    assert slack.requests == []


def test_without_a_signing_secret_every_press_is_refused(client, slack, incident, linked, settings):
    settings.SLACK_SIGNING_SECRET = ""
    assert press(client, slack, value=str(incident.pk)).status_code == 403
    assert state(incident)[0] == "triggered"


def test_only_post_is_answered(client):
    assert client.get(PATH).status_code == 405


# --- linking an account ----------------------------------------------------------------------


def test_this_is_me_links_the_account(client, slack, users, incident):
    method = slack_method(users["responder"], SLACK_ID, verified=False)
    assert press(client, slack, action="slack_link", value=str(method.pk)).status_code == 200
    method.refresh_from_db()
    assert method.verified_at is not None
    (answer,) = slack.responses()
    assert answer["replace_original"] is True
    assert "Linked to Pagerline user responder" in answer["text"]
    # From now on its presses act as the responder.
    press(client, slack, value=str(incident.pk), action_ts="1700000200.000300")
    assert state(incident)[0] == "acknowledged"


def test_another_slack_account_cannot_confirm(client, slack, users):
    method = slack_method(users["responder"], SLACK_ID, verified=False)
    press(client, slack, action="slack_link", value=str(method.pk), user_id="U0SOMEONE9")
    method.refresh_from_db()
    assert method.verified_at is None
    (note,) = slack.responses()
    assert "another Slack account" in note["text"]


def test_an_account_links_to_one_pagerline_user(client, slack, users, linked):
    method = slack_method(users["manager"], SLACK_ID, verified=False)
    press(client, slack, action="slack_link", value=str(method.pk))
    method.refresh_from_db()
    assert method.verified_at is None
    (note,) = slack.responses()
    assert "already linked to Pagerline user responder" in note["text"]


def test_a_removed_method_cannot_be_confirmed(client, slack, users):
    press(client, slack, action="slack_link", value="424242")
    (note,) = slack.responses()
    assert "no longer valid" in note["text"]
    assert not ContactMethod.objects.exists()
