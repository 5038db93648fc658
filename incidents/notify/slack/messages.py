"""Slack messages about incidents: a DM to a paged person (sent by the transport), a post
in the service's channel when an incident opens, and every such message redrawn in place
when the incident's state changes, wherever that happened (web, API, a link, SMS, Slack).

The timeline's follower `slack_follow` (registered in IncidentsConfig.ready) only collects
incident ids: a batch of a storm's events costs it no query, and at most one task message
per kind of work, sent after commit. Redrawing locks the message's row, so two redraws of
one message never cross (an older state cannot land last); a message posted while its
incident changed is redrawn at once; the beat auditor redraws what a lost task left
stale. Tests: incidents/tests/notify/test_slack_messages.py, test_slack_worker.py.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from incidents import task_names
from incidents.models import (
    ActedVia,
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    Notification,
    SlackMessage,
)
from incidents.notify import breaker, links, message
from incidents.notify.slack import blocks, client

log = logging.getLogger(__name__)

# What a message shows: status, who acknowledged or resolved, severity, assignee.
REDRAW_KINDS = frozenset(
    {
        EventKind.ACKNOWLEDGED,
        EventKind.UNACKNOWLEDGED,
        EventKind.RESOLVED,
        EventKind.REOPENED,
        EventKind.SEVERITY_CHANGED,
        EventKind.ASSIGNED,
    }
)
POST_TASK = task_names.SLACK_CHANNEL_POSTS
REDRAW_TASK = task_names.SLACK_REDRAW
MAX_ATTEMPTS = 6
_BACKOFF_SECONDS = 5
_DONE_BY = {"acknowledged": "Acknowledged", "resolved": "Resolved"}


# --- drawing ----------------------------------------------------------------------------------


def _incident(incident_id: int) -> Incident:
    return Incident.objects.select_related("service", "assignee").get(pk=incident_id)


def acted_by(incident: Incident) -> tuple[str, datetime | None]:
    """Who brought an acknowledged or resolved incident to its status, and how ("alice via
    SMS", "alertmanager"), and when; ("", None) for a triggered one."""
    if incident.status not in _DONE_BY:
        return "", None
    event = (
        incident.events.filter(kind=incident.status)
        .select_related("actor")
        .order_by("-seq")
        .first()
    )
    if event is None:
        return "", None
    who = event.actor.get_username() if event.actor else event.actor_label or "Pagerline"
    via = event.data.get("via")
    if via in ActedVia.values and via != ActedVia.SOURCE:
        who += f" via {ActedVia(via).label}"
    return who, event.at


def drawing(incident: Incident, *, intro: str = "") -> blocks.Drawing:
    """The incident as a message shows it now, with who brought it to its status."""
    who, at = acted_by(incident)
    last_action = f"{_DONE_BY[incident.status]} by {who}" if who else ""
    return blocks.Drawing(
        incident_id=incident.pk,
        title=incident.title,
        service=incident.service.name,
        severity=incident.severity,
        status=incident.status,
        url=message.incident_url(incident),
        assignee=incident.assignee.get_username() if incident.assignee else "",
        last_action=last_action,
        last_action_at=at,
        intro=intro,
    )


def _channel_intro(incident: Incident) -> str:
    return f"New incident on {incident.service.name}"


# --- posting ----------------------------------------------------------------------------------


def dm_post(*, notification: Notification, now: datetime | None = None) -> str:
    """Post a page to its person's DM with buttons and, in its text, their own one-use
    links; remember the message to redraw it. Returns the message's ts."""
    incident = _incident(notification.incident_id)
    links_now = None
    if incident.is_open:
        links_now = links.links_mint(
            incident=incident,
            user_id=notification.user_id,
            channel=Channel.SLACK,
            now=now or timezone.now(),
        )
    body = blocks.incident_message(drawing(incident, intro=notification.text), links=links_now)
    answer = client.call(
        "chat.postMessage", channel=notification.contact_method.address, unfurl_links=False, **body
    )
    _remember(incident=incident, answer=answer)
    return answer["ts"]


def _remember(*, incident: Incident, answer: dict) -> None:
    channel, ts = answer.get("channel"), answer.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
        raise client.SlackError(
            "chat.postMessage: no channel and ts in Slack's answer", permanent=True
        )
    SlackMessage.objects.get_or_create(
        channel_id=channel, ts=ts, defaults={"incident": incident, "drawn_seq": incident.last_seq}
    )
    # It changed while the message was on its way: the follower may have found no message
    # to redraw yet.
    if Incident.objects.filter(pk=incident.pk, last_seq__gt=incident.last_seq).exists():
        _enqueue(REDRAW_TASK, [incident.pk])


def channel_posts(*, incident_ids: list[int], attempt: int = 1) -> int:
    """Post each new incident once to its service's Slack channel; returns how many were
    posted. Rate limited or Slack in trouble: the rest go later, in order."""
    incidents = list(
        Incident.objects.filter(pk__in=incident_ids)
        .select_related("service", "assignee")
        .order_by("pk")
    )
    posted = 0
    for n, incident in enumerate(incidents):
        channel = incident.service.slack_channel
        if (
            not channel
            or SlackMessage.objects.filter(incident=incident, channel_id=channel).exists()
        ):
            continue
        # The same task delivered twice at once posts once.
        claim = f"slack-channel-post:{incident.pk}:{channel}"
        if not cache.add(claim, 1, timeout=client.TIMEOUT_SECONDS * 3):
            continue
        try:
            body = blocks.incident_message(drawing(incident, intro=_channel_intro(incident)))
            answer = client.call("chat.postMessage", channel=channel, unfurl_links=False, **body)
            _remember(incident=incident, answer=answer)
        except client.SlackError as exc:
            if exc.permanent:
                log.warning(
                    "incident %s not posted to Slack channel %s: %s", incident.pk, channel, exc
                )
                continue
            _later(POST_TASK, [i.pk for i in incidents[n:]], attempt=attempt, error=exc)
            break
        finally:
            cache.delete(claim)  # from now on the kept message says it was posted
        posted += 1
    return posted


# --- redrawing --------------------------------------------------------------------------------


def _intro(slack_message: SlackMessage, incident: Incident) -> str:
    """What the message said it was for: the page's text for a DM (its notification row
    holds the ts), "New incident on ..." for a channel post."""
    page_text = (
        Notification.objects.filter(
            incident=incident, channel=Channel.SLACK, provider_id=slack_message.ts
        )
        .values_list("text", flat=True)
        .first()
    )
    if page_text is not None:
        return page_text
    return "" if slack_message.channel_id.startswith("D") else _channel_intro(incident)


def message_redraw(*, message_id: int) -> bool:
    """Redraw one message if the incident's state changed since it was drawn; True if it
    was. A message Slack no longer has is given up (logged); passing failures raise."""
    with transaction.atomic():
        slack_message = SlackMessage.objects.select_for_update().filter(pk=message_id).first()
        if slack_message is None:
            return False
        incident = _incident(slack_message.incident_id)
        if slack_message.drawn_seq >= incident.last_seq:
            return False
        if not incident.events.filter(
            kind__in=REDRAW_KINDS, seq__gt=slack_message.drawn_seq
        ).exists():
            return False  # only notes, alerts or escalation steps since: nothing shown changed
        body = blocks.incident_message(drawing(incident, intro=_intro(slack_message, incident)))
        try:
            client.call(
                "chat.update", channel=slack_message.channel_id, ts=slack_message.ts, **body
            )
        except client.SlackError as exc:
            if not exc.permanent:
                raise
            log.warning(
                "Slack message %s of incident %s not redrawn: %s", message_id, incident.pk, exc
            )
        slack_message.drawn_seq = incident.last_seq
        slack_message.save(update_fields=["drawn_seq", "updated_at"])
    return True


def messages_redraw(*, incident_ids: list[int], attempt: int = 1) -> int:
    """Redraw every Slack message of these incidents that shows an outdated state."""
    rows = list(
        SlackMessage.objects.filter(incident_id__in=incident_ids)
        .order_by("incident_id", "pk")
        .values_list("pk", "incident_id")
    )
    redrawn = 0
    for n, (message_id, _) in enumerate(rows):
        try:
            redrawn += message_redraw(message_id=message_id)
        except client.SlackError as exc:
            rest = sorted({incident_id for _, incident_id in rows[n:]})
            _later(REDRAW_TASK, rest, attempt=attempt, error=exc)
            break
    return redrawn


def messages_audit(*, now: datetime | None = None) -> int:
    """Beat safety net: redraw messages whose redraw task was lost (the incident changed
    a while ago, the message still shows an older state)."""
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    changed = IncidentEvent.objects.filter(
        incident_id=OuterRef("incident_id"),
        kind__in=REDRAW_KINDS,
        seq__gt=OuterRef("drawn_seq"),
        recorded_at__lte=settled,
    )
    stale = (
        SlackMessage.objects.filter(
            incident__updated_at__gte=now - timedelta(days=1),
            drawn_seq__lt=F("incident__last_seq"),
        )
        .filter(Exists(changed))
        .order_by("incident_id")
        .values_list("incident_id", flat=True)
        .distinct()[:100]
    )
    incident_ids = list(stale)
    if not incident_ids:
        return 0
    log.warning("redrawing stale Slack messages of incidents %s", incident_ids)
    return messages_redraw(incident_ids=incident_ids)


# --- following the timeline -------------------------------------------------------------------


def slack_follow(appended, new: set[int] | None) -> None:
    """The timeline's follower: new incidents of services with a channel are posted there,
    state changes are redrawn, each in one task after commit. No query: the service is
    already loaded with the incident."""
    if not client.configured():
        return
    posts: list[int] = []
    redraws: set[int] = set()
    for incident, event in appended:
        if event.kind == EventKind.TRIGGERED:
            if incident.service.slack_channel:
                posts.append(incident.pk)
        elif event.kind in REDRAW_KINDS and (new is None or incident.pk not in new):
            # An incident the batch opened has no message yet; its post draws it as it is.
            redraws.add(incident.pk)
    if posts:
        transaction.on_commit(lambda: _enqueue(POST_TASK, posts))
    if redraws:
        ids = sorted(redraws)
        transaction.on_commit(lambda: _enqueue(REDRAW_TASK, ids))


def _enqueue(task: str, incident_ids: list[int], *, attempt: int = 1, countdown=None) -> None:
    try:
        current_app.send_task(task, args=[incident_ids, attempt], countdown=countdown, retry=False)
    except Exception:
        log.warning("could not enqueue %s for incidents %s", task, incident_ids)


def _later(task: str, incident_ids: list[int], *, attempt: int, error: client.SlackError) -> None:
    if attempt >= MAX_ATTEMPTS:
        log.error(
            "%s gave up on incidents %s after %s attempts: %s", task, incident_ids, attempt, error
        )
        return
    wait = error.retry_after or breaker.backoff(attempt, base_seconds=_BACKOFF_SECONDS).seconds
    log.warning("%s: %s; incidents %s again in %s s", task, error, incident_ids, wait)
    _enqueue(task, incident_ids, attempt=attempt + 1, countdown=wait)
