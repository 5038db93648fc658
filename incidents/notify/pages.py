"""Paging one person: each time an escalation step (or a repeat of its policy) pages a user,
that user's notification rules start for the incident ("0 min: Slack and push; 2 min: SMS;
5 min: phone call"), as PagerDuty does.

A running page is a PersonalPage row. Its steps fire the way escalation steps do: a stored
`next_fire_at`, an ETA task carrying the row's current token, and the beat auditor for
tasks lost with a worker or the broker; `page_advance` locks the incident, then the page,
fires only if the token still matches and the step is due, and rotates the token, so a
step fires once however often its task arrives. A new page of the same person for the
same incident replaces the running one (its token changes, the old task finds it stale);
an acknowledgement or resolution stops every page of the incident at once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from incidents import task_names
from incidents.models import (
    Incident,
    IncidentStatus,
    NotificationRule,
    PageState,
    PersonalPage,
)
from incidents.notify import rules, sending

log = logging.getLogger(__name__)

STOP_KINDS = frozenset({"acknowledged", "resolved"})
# An ETA may arrive a moment early (clock skew between hosts).
_EARLY = timedelta(seconds=1)


def incident_urgency(incident: Incident) -> str:
    return rules.urgency(incident.severity, incident.service.high_urgency_severities or ())


def _message(incident: Incident, why: str) -> tuple[str, str]:
    subject = f"[Pagerline] #{incident.pk} {incident.title} ({incident.service.name})"
    text = f"Incident #{incident.pk} on {incident.service.name} needs you: {incident.title} ({why})"
    return subject, text


# --- starting ---------------------------------------------------------------------------------


def users_page(*, users: list, incident: Incident, reason: str, why: str, at: datetime) -> set:
    """Start each user's rules for `incident` (in the caller's transaction, which holds the
    incident's lock). Returns the ids of the users a page started for; a user with no
    usable contact method cannot be reached and gets no page."""
    if not users:
        return set()
    urgency = incident_urgency(incident)
    # A person named twice (directly and through a schedule) is paged once: a second start
    # would replace the first and send its first step again.
    user_ids = list(dict.fromkeys(u.pk for u in users))
    usable: dict[int, list[int]] = {}
    for method in sending.usable_methods(user_ids=user_ids):
        usable.setdefault(method.user_id, []).append(method.pk)
    chosen: dict[int, list[rules.Rule]] = {}
    for rule in NotificationRule.objects.filter(user_id__in=user_ids, urgency=urgency):
        if rule.contact_method_id in usable.get(rule.user_id, ()):
            chosen.setdefault(rule.user_id, []).append(
                rules.Rule(rule.delay_seconds, rule.contact_method_id)
            )
    reached = set()
    for user_id in user_ids:
        steps = rules.steps(chosen.get(user_id, ()), fallback_method_ids=usable.get(user_id, ()))
        if steps:
            page_start(
                user_id=user_id,
                incident=incident,
                urgency=urgency,
                reason=reason,
                why=why,
                steps=steps,
                at=at,
            )
            reached.add(user_id)
    return reached


def page_start(
    *,
    user_id: int,
    incident: Incident,
    urgency: str,
    reason: str,
    why: str,
    steps: list[dict],
    at: datetime,
) -> PersonalPage:
    """(Re)start one person's page for the incident from its first step; the first step
    fires at once when its delay is zero."""
    page = PersonalPage.objects.select_for_update().filter(incident=incident, user_id=user_id)
    page = page.first() or PersonalPage(incident=incident, user_id=user_id)
    page.urgency, page.reason, page.why = urgency, reason, why[:300]
    page.steps, page.step_index = steps, 0
    page.state = PageState.ACTIVE
    page.started_at = at
    page.next_fire_at = at + timedelta(seconds=steps[0]["delay_seconds"])
    if page.pk is None:
        page.save()  # its notifications point at it
    if page.next_fire_at <= at:
        _fire(page=page, incident=incident, now=at)
    else:
        _schedule(page)
    return page


# --- firing -----------------------------------------------------------------------------------


def _fire(*, page: PersonalPage, incident: Incident, now: datetime) -> str:
    """Send the page's due step, then schedule the next one (or finish). A step whose
    methods are all gone, disabled or unverified by now is passed over."""
    while page.step_index < len(page.steps):
        step = page.steps[page.step_index]
        page.step_index += 1
        methods = sending.usable_methods(user_ids=[page.user_id]).filter(pk__in=step["methods"])
        subject, text = _message(incident, page.why)
        if sending.methods_notify(
            methods=methods,
            reason=page.reason,
            subject=subject,
            text=text,
            at=now,
            incident=incident,
            page=page,
        ):
            break
    if page.step_index >= len(page.steps):
        page.state, page.next_fire_at, page.token = PageState.DONE, None, ""
        page.save()
        return "done"
    delay = timedelta(seconds=page.steps[page.step_index]["delay_seconds"])
    page.next_fire_at = max(page.started_at + delay, now)
    _schedule(page)
    return "fired"


def _schedule(page: PersonalPage) -> None:
    page.token = uuid.uuid4().hex
    page.save()
    page_id, token, eta = page.pk, page.token, page.next_fire_at
    transaction.on_commit(lambda: _enqueue(page_id, token, eta))


def _enqueue(page_id: int, token: str, eta: datetime | None) -> None:
    try:
        current_app.send_task(task_names.PAGE_STEP, args=[page_id, token], eta=eta, retry=False)
    except Exception:
        log.warning("could not enqueue page step %s; the auditor will fire it", page_id)


def page_advance(*, page_id: int, token: str, now: datetime | None = None) -> str:
    """Fire the page's pending step if `token` is current and the step is due. Returns
    fired, done, stopped, not_due, stale or gone."""
    now = now or timezone.now()
    incident_id = (
        PersonalPage.objects.filter(pk=page_id).values_list("incident_id", flat=True).first()
    )
    if incident_id is None:
        return "gone"
    with transaction.atomic():
        # The lock order of every incident write: the incident, then what hangs off it.
        incident = (
            Incident.objects.select_related("service")
            .select_for_update(of=("self",))
            .get(pk=incident_id)
        )
        page = PersonalPage.objects.select_for_update().get(pk=page_id)
        if page.state != PageState.ACTIVE or page.token != token:
            return "stale"
        if incident.status != IncidentStatus.TRIGGERED:
            _stop(page)
            return "stopped"
        if page.next_fire_at > now + _EARLY:
            eta = page.next_fire_at
            transaction.on_commit(lambda: _enqueue(page_id, token, eta))
            return "not_due"
        return _fire(page=page, incident=incident, now=now)


def page_hurry(*, page_id: int, now: datetime | None = None, notification_id=None) -> bool:
    """A message of this page failed for good (the provider said undelivered): go on to
    the person's next rule step now instead of waiting for its delay.

    With `notification_id` (the failed message), only if it belongs to the step that fired
    last: a late failure report of an earlier step (a later one already went out), or of a
    run of the page that a newer page replaced, hurries nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        page = PersonalPage.objects.select_for_update().filter(pk=page_id).first()
        if page is None or page.state != PageState.ACTIVE or page.next_fire_at <= now:
            return False
        if notification_id is not None and not _from_last_step(page, notification_id):
            return False
        page.next_fire_at = now
        _schedule(page)
    return True


def pages_failed(rows: list, now: datetime) -> None:
    """Messages of these pages failed for good: each person's next step goes now."""
    for row in rows:
        if row.page_id is not None:
            page_hurry(page_id=row.page_id, now=now, notification_id=row.pk)


def _from_last_step(page: PersonalPage, notification_id: int) -> bool:
    row = page.notifications.filter(pk=notification_id).select_related("retry_of").first()
    if row is None:
        return False
    # A retry is a row of its own, made later: what counts is when its step fired.
    fired_at = row.retry_of.created_at if row.retry_of else row.created_at
    latest = (
        page.notifications.filter(retry_of__isnull=True)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return fired_at >= page.started_at and (latest is None or fired_at >= latest)


# --- stopping ---------------------------------------------------------------------------------


def _stop(page: PersonalPage) -> None:
    page.state, page.next_fire_at, page.token = PageState.STOPPED, None, ""
    page.save()


def pages_stop(*, incident_ids: list[int]) -> int:
    return PersonalPage.objects.filter(incident_id__in=incident_ids, state=PageState.ACTIVE).update(
        state=PageState.STOPPED, next_fire_at=None, token="", updated_at=timezone.now()
    )


def pages_follow(appended, new: set[int] | None) -> None:
    """The timeline's follower (registered in IncidentsConfig.ready): the moment anyone
    acknowledges or resolves an incident, its remaining page steps are dropped."""
    stopped = [
        incident.pk
        for incident, event in appended
        if event.kind in STOP_KINDS and (new is None or incident.pk not in new)
    ]
    if stopped:
        pages_stop(incident_ids=stopped)


# --- the auditor ------------------------------------------------------------------------------


def pages_audit(*, now: datetime | None = None) -> int:
    """Beat safety net: fire page steps whose ETA task was lost (killed worker, broker
    restart), through the same token check, so a step never fires twice."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    due = list(
        PersonalPage.objects.filter(state=PageState.ACTIVE, next_fire_at__lte=overdue)
        .order_by("next_fire_at")
        .values_list("pk", "token")[:500]
    )
    fired = 0
    for page_id, token in due:
        try:
            outcome = page_advance(page_id=page_id, token=token, now=now)
        except Exception:
            log.exception("page %s failed; the auditor will retry it", page_id)
            continue
        if outcome in {"fired", "done"}:
            log.warning("auditor re-drove page %s: %s", page_id, outcome)
            fired += 1
    return fired
