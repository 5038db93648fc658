"""Slack messages kept up to date: posts in a service's channel, redraws in place when the
incident changes (wherever it changed), the follower's cost in a storm, and the auditor."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from incidents import task_names
from incidents.models import IncidentEvent, SlackMessage
from incidents.notify import links, sending
from incidents.notify.slack import messages
from incidents.tests.factories import make_alert_incident
from incidents.tests.slack_support import running_fake_slack, slack_method
from incidents.timeline import actions

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
CHANNEL = "C0OPS12345"


@pytest.fixture
def slack(settings):
    yield from running_fake_slack(settings)


@pytest.fixture
def enqueued(monkeypatch):
    """The tasks the code enqueues: (task, incident ids, attempt, countdown)."""
    sent = []

    def record(task, incident_ids, *, attempt=1, countdown=None):
        sent.append((task, list(incident_ids), attempt, countdown))

    monkeypatch.setattr(messages, "_enqueue", record)
    return sent


def dm(users, incident, name="responder"):
    """A page DMed to a person, as the transport sends it."""
    method = slack_method(users[name])
    (row,) = sending.methods_notify(
        methods=[method],
        reason="escalation",
        subject="s",
        text="You are paged",
        at=T0,
        incident=incident,
    )
    assert sending.notification_send(notification_id=row.pk, now=T0) == "sent"
    return SlackMessage.objects.get(incident=incident, channel_id="D0RESPOND1")


def buttons(body) -> list[str]:
    (row,) = [b for b in body["blocks"] if b["type"] == "actions"]
    return [e["action_id"] for e in row["elements"]]


def test_acknowledging_anywhere_redraws_the_dm(service, users, slack):
    incident = make_alert_incident(service, T0)
    kept = dm(users, incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"], via="sms")
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 1

    (update,) = slack.calls("chat.update")
    assert (update["channel"], update["ts"]) == ("D0RESPOND1", kept.ts)
    assert buttons(update) == ["resolve", "open_incident"]
    (context,) = [b for b in update["blocks"] if b["type"] == "context"]
    assert context["elements"][0]["text"].startswith("Acknowledged by manager via SMS")
    assert "You are paged" in update["text"]  # the page's own words stay
    kept.refresh_from_db()
    assert kept.drawn_seq == incident.events.count()


def test_a_resolved_incident_loses_its_buttons(service, users, slack):
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    actions.incident_resolve(incident_id=incident.pk, user=users["responder"])
    messages.messages_redraw(incident_ids=[incident.pk])
    (update,) = slack.calls("chat.update")
    assert buttons(update) == ["open_incident"]
    assert "Resolved by responder via the web" in update["blocks"][-2]["elements"][0]["text"]


def test_nothing_is_redrawn_when_nothing_shown_changed(service, users, slack):
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 0
    actions.incident_add_note(incident_id=incident.pk, user=users["responder"], text="looking")
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 0
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 1
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 0  # a task run twice
    assert len(slack.calls("chat.update")) == 1


def test_a_message_slack_lost_is_given_up(service, users, slack):
    incident = make_alert_incident(service, T0)
    kept = dm(users, incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    slack.fail("chat.update", (200, {"ok": False, "error": "message_not_found"}, {}))
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 1
    kept.refresh_from_db()
    assert kept.drawn_seq == incident.events.count()  # not tried again and again


def test_a_rate_limited_redraw_goes_again_when_slack_says(service, users, slack, enqueued):
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    slack.fail("chat.update", (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "9"}))
    assert messages.messages_redraw(incident_ids=[incident.pk]) == 0
    assert enqueued == [(task_names.SLACK_REDRAW, [incident.pk], 2, 9)]
    assert messages.messages_redraw(incident_ids=[incident.pk], attempt=2) == 1


def test_the_follower_enqueues_redraws_after_commit(
    service, users, slack, enqueued, django_capture_on_commit_callbacks
):
    incident = make_alert_incident(service, T0)
    with django_capture_on_commit_callbacks(execute=True):
        actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
        assert enqueued == []  # not before commit
    assert enqueued == [(task_names.SLACK_REDRAW, [incident.pk], 1, None)]


def test_a_message_posted_while_its_incident_changed_is_redrawn(
    service, users, slack, enqueued, monkeypatch
):
    incident = make_alert_incident(service, T0)
    post = messages.client.call

    def acknowledged_meanwhile(method, **arguments):
        answer = post(method, **arguments)
        actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
        return answer

    monkeypatch.setattr(messages.client, "call", acknowledged_meanwhile)
    dm(users, incident)
    assert (task_names.SLACK_REDRAW, [incident.pk], 1, None) in enqueued


# --- service channels -------------------------------------------------------------------------


def test_a_new_incident_is_posted_once_to_its_services_channel(
    service, users, slack, enqueued, django_capture_on_commit_callbacks
):
    service.slack_channel = CHANNEL
    service.save()
    with django_capture_on_commit_callbacks(execute=True):
        incident = make_alert_incident(service, T0, title="InstanceDown")
    assert enqueued == [(task_names.SLACK_CHANNEL_POSTS, [incident.pk], 1, None)]
    assert messages.channel_posts(incident_ids=[incident.pk]) == 1
    assert messages.channel_posts(incident_ids=[incident.pk]) == 0  # delivered twice
    (post,) = slack.calls("chat.postMessage")
    assert post["channel"] == CHANNEL
    assert buttons(post) == ["acknowledge", "resolve", "open_incident"]
    assert "/a/" not in post["text"]  # links are personal; a channel gets buttons only
    assert SlackMessage.objects.filter(incident=incident, channel_id=CHANNEL).exists()


def test_services_without_a_channel_post_nothing(
    service, slack, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        make_alert_incident(service, T0)
    assert enqueued == []


def test_channel_posts_wait_out_a_rate_limit(service, slack, enqueued):
    service.slack_channel = CHANNEL
    service.save()
    first, second = (
        make_alert_incident(service, T0, key="a"),
        make_alert_incident(service, T0, key="b"),
    )
    slack.fail(
        "chat.postMessage",
        (200, {"ok": True, "channel": CHANNEL, "ts": "1700000000.000001"}, {}),
        (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "2"}),
    )
    assert messages.channel_posts(incident_ids=[first.pk, second.pk]) == 1
    assert enqueued == [(task_names.SLACK_CHANNEL_POSTS, [second.pk], 2, 2)]
    assert messages.channel_posts(incident_ids=[second.pk], attempt=2) == 1


def test_a_channel_slack_refuses_is_skipped(service, slack):
    service.slack_channel = CHANNEL
    service.save()
    first, second = (
        make_alert_incident(service, T0, key="a"),
        make_alert_incident(service, T0, key="b"),
    )
    slack.fail("chat.postMessage", (200, {"ok": False, "error": "not_in_channel"}, {}))
    assert messages.channel_posts(incident_ids=[first.pk, second.pk]) == 1
    assert list(SlackMessage.objects.values_list("incident_id", flat=True)) == [second.pk]


def test_the_follower_costs_no_query_in_a_storm(service, slack, django_assert_num_queries):
    service.slack_channel = CHANNEL
    incidents = [make_alert_incident(service, T0, key=f"k{n}") for n in range(50)]
    appended = [(i, IncidentEvent(incident=i, seq=1, kind="triggered", at=T0)) for i in incidents]
    appended += [
        (i, IncidentEvent(incident=i, seq=2, kind="alert_fired", at=T0)) for i in incidents
    ]
    with django_assert_num_queries(0):
        messages.slack_follow(appended, {i.pk for i in incidents})


def test_the_auditor_redraws_what_a_lost_task_left_stale(service, users, slack, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 30
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["responder"])
    now = timezone.now()
    assert messages.messages_audit(now=now) == 0  # its task may still be on its way
    assert messages.messages_audit(now=now + timedelta(seconds=31)) == 1
    assert messages.messages_audit(now=now + timedelta(seconds=62)) == 0
    assert len(slack.calls("chat.update")) == 1


# --- what a redrawn DM keeps --------------------------------------------------------------------


def tokens_in(text: str) -> dict[str, str]:
    """{"acknowledge": token, ...} of the links in a message's text."""
    found = {}
    for line in text.splitlines():
        for action in ("Acknowledge", "Resolve"):
            if line.startswith(f"{action}: <") and "/a/" in line:
                found[action.lower()] = line.split("/a/", 1)[1].split("/", 1)[0]
    return found


def test_a_redrawn_dm_keeps_the_links_still_usable(service, users, slack):
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"], via="sms")
    messages.messages_redraw(incident_ids=[incident.pk])
    (update,) = slack.calls("chat.update")
    found = tokens_in(update["text"])
    assert list(found) == ["resolve"]  # acknowledging is no longer possible
    assert "Acknowledged by manager via SMS" in update["text"]
    assert "You are paged" in update["text"]
    # The new link works, as the person the page went to.
    done = links.link_use(token=found["resolve"])
    assert done.state == links.DONE
    incident.refresh_from_db()
    assert incident.status == "resolved"
    event = incident.events.get(kind="resolved")
    assert (event.actor, event.data["via"]) == (users["responder"], "slack")


def test_a_resolved_dm_shows_who_resolved_it_and_how_without_links(service, users, slack):
    incident = make_alert_incident(service, T0)
    dm(users, incident)
    actions.incident_resolve(incident_id=incident.pk, user=users["manager"], via="sms")
    messages.messages_redraw(incident_ids=[incident.pk])
    (update,) = slack.calls("chat.update")
    assert buttons(update) == ["open_incident"]
    assert tokens_in(update["text"]) == {}
    assert "Resolved by manager via SMS" in update["text"]


def test_a_channel_post_redraw_carries_no_links(service, users, slack):
    service.slack_channel = CHANNEL
    service.save()
    incident = make_alert_incident(service, T0)
    messages.channel_posts(incident_ids=[incident.pk])
    actions.incident_acknowledge(incident_id=incident.pk, user=users["manager"])
    messages.messages_redraw(incident_ids=[incident.pk])
    (update,) = slack.calls("chat.update")
    assert "/a/" not in update["text"]
    assert "New incident on" in update["text"]


# --- channel posts that fail ------------------------------------------------------------------


def failure_notes(incident) -> list[str]:
    return [
        e.data["text"]
        for e in incident.events.filter(kind="note", actor_label="slack").order_by("seq")
    ]


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel"])
def test_a_channel_slack_refuses_is_said_on_the_timeline(
    client, service, users, slack, enqueued, settings, error
):
    service.slack_channel = CHANNEL
    service.save()
    incident = make_alert_incident(service, T0)
    slack.fail("chat.postMessage", (200, {"ok": False, "error": error}, {}))
    assert messages.channel_posts(incident_ids=[incident.pk]) == 0
    assert enqueued == []  # it would fail the same way again
    (note,) = failure_notes(incident)
    assert note.startswith(f"Not posted to Slack channel {CHANNEL}: chat.postMessage: {error}.")
    assert "/invite @Pagerline" in note
    client.force_login(users["viewer"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f"Not posted to Slack channel {CHANNEL}" in page
    # The auditor does not try it again and again.
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 0
    assert messages.channel_posts_audit(now=timezone.now() + timedelta(seconds=5)) == 0
    assert len(slack.calls("chat.postMessage")) == 1


def test_a_post_that_keeps_failing_is_said_on_the_timeline_once_given_up(service, slack, enqueued):
    service.slack_channel = CHANNEL
    service.save()
    incident = make_alert_incident(service, T0)
    busy = (503, {"ok": False, "error": "service_unavailable"}, {})
    slack.fail("chat.postMessage", busy, busy)
    assert messages.channel_posts(incident_ids=[incident.pk], attempt=1) == 0
    assert enqueued == [(task_names.SLACK_CHANNEL_POSTS, [incident.pk], 2, 5)]
    assert failure_notes(incident) == []
    last = messages.MAX_ATTEMPTS
    assert messages.channel_posts(incident_ids=[incident.pk], attempt=last) == 0
    assert len(enqueued) == 1  # no more tries
    (note,) = failure_notes(incident)
    assert f"after {last} attempts" in note and "service_unavailable" in note


def test_a_rate_limited_post_is_not_noted_and_waits_as_slack_says(service, slack, enqueued):
    service.slack_channel = CHANNEL
    service.save()
    incident = make_alert_incident(service, T0)
    slack.fail(
        "chat.postMessage", (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"})
    )
    assert messages.channel_posts(incident_ids=[incident.pk]) == 0
    assert enqueued == [(task_names.SLACK_CHANNEL_POSTS, [incident.pk], 2, 7)]
    assert failure_notes(incident) == []


def test_the_auditor_posts_what_a_lost_task_left_unposted(service, slack, enqueued, settings):
    settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS = 30
    service.slack_channel = CHANNEL
    service.save()
    incident = make_alert_incident(service, T0)  # its post task was never run
    now = timezone.now()
    assert messages.channel_posts_audit(now=now) == 0  # its task may still be on its way
    slack.fail(
        "chat.postMessage", (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "9"})
    )
    later = now + timedelta(seconds=31)
    assert messages.channel_posts_audit(now=later) == 0
    assert enqueued == []  # the auditor's next run tries again, no second retry chain
    assert messages.messages_audit(now=later + timedelta(seconds=60)) == 1  # beat's task
    assert SlackMessage.objects.filter(incident=incident, channel_id=CHANNEL).exists()
    assert messages.channel_posts_audit(now=later + timedelta(seconds=120)) == 0
    assert len(slack.calls("chat.postMessage")) == 2
