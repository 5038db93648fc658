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
    Channel,
    EventKind,
    Incident,
    IncidentEvent,
    Notification,
    SlackMessage,
)
from incidents.notify import breaker, message
from incidents.notify.slack import blocks, client, drawing
from incidents.timeline import actions

log = logging.getLogger(__name__)

REDRAW_KINDS = drawing.REDRAW_KINDS
POST_TASK = task_names.SLACK_CHANNEL_POSTS
REDRAW_TASK = task_names.SLACK_REDRAW
MAX_ATTEMPTS = 6
_BACKOFF_SECONDS = 5


# Kept here for the callers that read them from this module (interactions).
acted_by = drawing.acted_by
_incident = drawing.incident_of


def _channel_intro(incident: Incident) -> str:
    return f"New incident on {incident.service.name}"


# --- posting ----------------------------------------------------------------------------------


def dm_post(*, notification: Notification, now: datetime | None = None) -> str:
    """Post a page (or a bundle of pages) to its person's DM with buttons and, in its text,
    their own one-use links; remember the message to redraw it. Returns the message's ts."""
    rows = message.items(notification)
    body, mark, _ = drawing.dm_body(
        rows=rows, user_id=notification.user_id, now=now or timezone.now()
    )
    answer = client.call(
        "chat.postMessage", channel=notification.contact_method.address, unfurl_links=False, **body
    )
    ts = answer.get("ts")
    if isinstance(ts, str) and ts:
        # Before the message is remembered: a redraw finds its page (and bundle) by it.
        Notification.objects.filter(pk=notification.pk).update(provider_id=ts[:64])
    _remember(incident=_incident(notification.incident_id), answer=answer, drawn=mark, rows=rows)
    return answer["ts"]


def _remember(
    *, incident: Incident, answer: dict, drawn: int | None = None, rows: list | None = None
) -> None:
    channel, ts = answer.get("channel"), answer.get("ts")
    if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
        raise client.SlackError(
            "chat.postMessage: no channel and ts in Slack's answer", permanent=True
        )
    drawn = incident.last_seq if drawn is None else drawn
    SlackMessage.objects.get_or_create(
        channel_id=channel, ts=ts, defaults={"incident": incident, "drawn_seq": drawn}
    )
    # It changed while the message was on its way: the follower may have found no message
    # to redraw yet.
    incidents = drawing.incidents_of(rows) if rows else [incident]
    if len(incidents) > 1:
        changed = drawing.bundle_mark(incidents) > drawn
    else:
        changed = Incident.objects.filter(pk=incident.pk, last_seq__gt=drawn).exists()
    if changed:
        _enqueue(REDRAW_TASK, [incident.pk])


def channel_posts(*, incident_ids: list[int], attempt: int = 1, audit: bool = False) -> int:
    """Post each new incident once to its service's Slack channel; returns how many were
    posted. Rate limited or Slack in trouble: the rest go later, in order (`audit`: the
    auditor's next run takes them instead). A post Slack refuses (channel_not_found,
    not_in_channel...) or that still fails after MAX_ATTEMPTS is noted on the incident's
    timeline, so nobody waits for a post that will not come."""
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
            body = blocks.incident_message(
                drawing.drawing(incident, intro=_channel_intro(incident))
            )
            answer = client.call("chat.postMessage", channel=channel, unfurl_links=False, **body)
            _remember(incident=incident, answer=answer)
        except client.SlackError as exc:
            if exc.permanent:
                _post_failed(incident_ids=[incident.pk], channel=channel, error=exc)
                continue
            rest = [i.pk for i in incidents[n:]]
            if audit:
                log.warning("Slack channel posts of incidents %s: %s", rest, exc)
            elif attempt >= MAX_ATTEMPTS:
                _post_failed(incident_ids=rest, channel=channel, error=exc, attempts=attempt)
            else:
                _later(POST_TASK, rest, attempt=attempt, error=exc)
            break
        finally:
            cache.delete(claim)  # from now on the kept message says it was posted
        posted += 1
    return posted


POST_FAILED = "Not posted to Slack channel"
# A lost channel post is looked for this long after its incident opened.
POST_AUDIT_WINDOW = timedelta(hours=1)


def _post_failed(
    *, incident_ids: list[int], channel: str, error: client.SlackError, attempts: int = 0
) -> None:
    """Say on each incident's timeline that its channel post failed for good, and why (the
    auditor leaves incidents with this note alone)."""
    how = f" after {attempts} attempts" if attempts else ""
    hint = ""
    if error.error in {"channel_not_found", "not_in_channel", "is_archived"}:
        hint = " Invite the Slack app (/invite @Pagerline) or fix the service's channel."
    for incident_id in incident_ids:
        log.warning("incident %s not posted to Slack channel %s: %s", incident_id, channel, error)
        text = f"{POST_FAILED} {channel}{how}: {error}.{hint}"
        try:
            actions.incident_add_note(incident_id=incident_id, text=text, actor_label="slack")
        except Incident.DoesNotExist:
            continue


def channel_posts_audit(*, now: datetime | None = None, limit: int = 20) -> int:
    """Beat safety net: post what a lost task (a killed worker, a broker restart, a retry
    that never came) left unposted: incidents opened within POST_AUDIT_WINDOW (but not
    just now) on services with a channel, with neither a post in that channel nor a note
    that it failed. (So a channel set on a service gets its last hour's incidents too.)
    At most `limit` a run, stopping at Slack's first passing failure."""
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    posted = SlackMessage.objects.filter(
        incident_id=OuterRef("pk"), channel_id=OuterRef("service__slack_channel")
    )
    failed = IncidentEvent.objects.filter(
        incident_id=OuterRef("pk"),
        kind=EventKind.NOTE,
        actor_label="slack",
        data__text__startswith=f"{POST_FAILED} ",
    )
    opened = IncidentEvent.objects.filter(
        incident_id=OuterRef("pk"),
        kind=EventKind.TRIGGERED,
        recorded_at__gte=now - POST_AUDIT_WINDOW,
        recorded_at__lte=settled,
    )
    incident_ids = list(
        Incident.objects.exclude(service__slack_channel="")
        .filter(Exists(opened))
        .exclude(Exists(posted))
        .exclude(Exists(failed))
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not incident_ids:
        return 0
    log.warning("posting incidents %s to their Slack channels (their task was lost)", incident_ids)
    return channel_posts(incident_ids=incident_ids, audit=True)


# --- redrawing --------------------------------------------------------------------------------


def _intro(slack_message: SlackMessage, incident: Incident) -> str:
    """A channel post says what it was for; a DM without its page row (a test) nothing."""
    return "" if slack_message.channel_id.startswith("D") else _channel_intro(incident)


def _body(slack_message: SlackMessage, incident: Incident, now: datetime):
    """(body, mark) of a message to redraw, or None when nothing it shows changed."""
    page = drawing.page_row_of(incident_id=incident.pk, ts=slack_message.ts)
    rows = drawing.page_rows(page) if page is not None else []
    if len({row.incident_id for row in rows}) > 1:
        body, mark, _ = drawing.dm_body(rows=rows, user_id=page.user_id, now=now)
        return None if slack_message.drawn_seq >= mark else (body, mark)
    if slack_message.drawn_seq >= incident.last_seq:
        return None
    if not incident.events.filter(kind__in=REDRAW_KINDS, seq__gt=slack_message.drawn_seq).exists():
        return None  # only notes, alerts or escalation steps since: nothing shown changed
    if page is not None:  # a DM: the page's words and, while possible, the person's links
        body, mark, _ = drawing.dm_body(rows=rows, user_id=page.user_id, now=now)
        return body, mark
    body = blocks.incident_message(drawing.drawing(incident, intro=_intro(slack_message, incident)))
    return body, incident.last_seq


def message_redraw(*, message_id: int, now: datetime | None = None) -> bool:
    """Redraw one message if what it shows changed since it was drawn; True if it was. A
    message Slack no longer has is given up (logged); passing failures raise (and undo the
    links minted for it)."""
    with transaction.atomic():
        slack_message = SlackMessage.objects.select_for_update().filter(pk=message_id).first()
        if slack_message is None:
            return False
        incident = _incident(slack_message.incident_id)
        drawn = _body(slack_message, incident, now or timezone.now())
        if drawn is None:
            return False
        body, mark = drawn
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
        slack_message.drawn_seq = mark
        slack_message.save(update_fields=["drawn_seq", "updated_at"])
    return True


def _messages_of(incident_ids: list[int]) -> list[tuple[int, int]]:
    """(message id, its incident id) of every message showing these incidents: their own
    and the bundle DMs that carry them (kept under the bundle's first incident)."""
    in_bundles = Notification.objects.filter(
        incident_id__in=incident_ids, channel=Channel.SLACK, bundled_into__isnull=False
    ).values_list("bundled_into__incident_id", "bundled_into__provider_id")
    found = set(
        SlackMessage.objects.filter(incident_id__in=incident_ids).values_list("pk", "incident_id")
    )
    for head_incident, ts in set(in_bundles):
        if head_incident is not None and ts:
            found.update(
                SlackMessage.objects.filter(incident_id=head_incident, ts=ts).values_list(
                    "pk", "incident_id"
                )
            )
    return sorted(found, key=lambda pair: (pair[1], pair[0]))


def messages_redraw(*, incident_ids: list[int], attempt: int = 1) -> int:
    """Redraw every Slack message of these incidents that shows an outdated state."""
    rows = _messages_of(incident_ids)
    redrawn = 0
    for n, (message_id, _) in enumerate(rows):
        try:
            redrawn += message_redraw(message_id=message_id)
        except client.SlackError as exc:
            rest = sorted({incident_id for _, incident_id in rows[n:]})
            _later(REDRAW_TASK, rest, attempt=attempt, error=exc)
            break
    return redrawn


def _stale_bundles(*, now: datetime, settled: datetime) -> list[int]:
    """The first incidents of bundle DMs that one of their incidents' changes left stale
    (a change settled a while ago that the kept mark does not count)."""
    heads = (
        Notification.objects.filter(
            channel=Channel.SLACK,
            bundled_into__isnull=False,
            incident__updated_at__gte=now - timedelta(days=1),
        )
        .values_list("bundled_into_id", flat=True)
        .distinct()[:100]
    )
    stale = []
    for head in Notification.objects.filter(pk__in=list(heads)).exclude(provider_id=""):
        kept = SlackMessage.objects.filter(incident_id=head.incident_id, ts=head.provider_id)
        kept = kept.first()
        if kept is None:
            continue
        incidents = drawing.incidents_of(drawing.page_rows(head))
        changes = IncidentEvent.objects.filter(incident__in=incidents, kind__in=REDRAW_KINDS)
        if changes.count() > kept.drawn_seq and not changes.filter(recorded_at__gt=settled):
            stale.append(head.incident_id)
    return stale


def messages_audit(*, now: datetime | None = None) -> int:
    """Beat safety net: redraw messages whose redraw task was lost (an incident changed a
    while ago, a message still shows an older state), and post channel posts a lost task
    left unposted (channel_posts_audit)."""
    now = now or timezone.now()
    settled = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    changed = IncidentEvent.objects.filter(
        incident_id=OuterRef("incident_id"),
        kind__in=REDRAW_KINDS,
        seq__gt=OuterRef("drawn_seq"),
        recorded_at__lte=settled,
    )
    bundles = Notification.objects.filter(
        incident_id=OuterRef("incident_id"),
        provider_id=OuterRef("ts"),
        channel=Channel.SLACK,
        bundled__isnull=False,
    )
    stale = (
        SlackMessage.objects.filter(
            incident__updated_at__gte=now - timedelta(days=1),
            drawn_seq__lt=F("incident__last_seq"),
        )
        .filter(Exists(changed))
        .exclude(Exists(bundles))  # their mark counts other incidents' changes too
        .order_by("incident_id")
        .values_list("incident_id", flat=True)
        .distinct()[:100]
    )
    incident_ids = sorted({*stale, *_stale_bundles(now=now, settled=settled)})
    redrawn = 0
    if incident_ids:
        log.warning("redrawing stale Slack messages of incidents %s", incident_ids)
        redrawn = messages_redraw(incident_ids=incident_ids)
    return redrawn + channel_posts_audit(now=now)


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
