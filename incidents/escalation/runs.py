"""Escalation: page the steps of an incident's frozen policy until someone acknowledges.

Every scheduled firing carries a fresh token. The ETA task `incidents.escalate` and the beat
auditor both go through `escalation_advance`, which locks the incident and the escalation
row and fires only if the token still matches and the firing is due, then rotates the
token: a late, repeated or re-driven task can never page the same step twice.
Rules in one place: start/stop follow the incident's events, holds follow maintenance.
"""

from __future__ import annotations

import functools
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from incidents import task_names
from incidents.escalation.plan import Plan, Position, Step, Target
from incidents.models import (
    EscalationPolicy,
    EscalationState,
    Incident,
    IncidentEscalation,
    IncidentStatus,
    MaintenanceWindow,
    NotificationReason,
)
from incidents.notify import pages
from incidents.timeline import events

log = logging.getLogger(__name__)

START_KINDS = frozenset({"triggered", "reopened", "unacknowledged"})
STOP_KINDS = frozenset({"acknowledged", "resolved"})
RUNNING = (EscalationState.ACTIVE, EscalationState.HELD)
# An ETA may arrive a moment early (clock skew between hosts).
_EARLY = timedelta(seconds=1)


# --- the policy, frozen -----------------------------------------------------------------------


def policy_plan(policy: EscalationPolicy) -> Plan:
    """The policy as plain values: what an incident keeps, whatever happens to the policy."""
    steps = policy.steps.prefetch_related("targets").order_by("position", "id")
    return Plan(
        policy_id=policy.pk,
        name=policy.name,
        repeat=policy.repeat,
        fallback_user_id=policy.fallback_user_id,
        steps=tuple(
            Step(
                delay_seconds=step.delay_seconds,
                targets=tuple(
                    Target(user_id=t.user_id, schedule_id=t.schedule_id) for t in step.targets.all()
                ),
            )
            for step in steps
        ),
    )


# --- who a target is, right now ---------------------------------------------------------------


def resolve_targets(step_target: Target, at: datetime, memo: Memo | None = None) -> list:
    """The active users a step target stands for at `at`.

    Schedules belong to oncall/ and are asked through `oncall.selectors.oncall_users` (in a
    batch, through its memo); if that is not available, the schedule resolves to no one
    (and the step's fallback and warning take over), never to an exception.
    """
    user_model = get_user_model()
    if step_target.user_id is not None:
        return list(user_model.objects.filter(pk=step_target.user_id, is_active=True))
    try:
        from oncall import selectors as oncall_selectors

        oncall_users = oncall_selectors.oncall_users
        if memo is not None:
            oncall_users = functools.partial(memo.oncall_users, oncall_selectors.oncall_at_many)
    except (ImportError, AttributeError):
        log.warning(
            "schedule %s cannot be resolved: oncall.selectors.oncall_users is missing",
            step_target.schedule_id,
        )
        return []
    return [u for u in oncall_users(schedule_id=step_target.schedule_id, at=at) if u.is_active]


# --- lifecycle --------------------------------------------------------------------------------


@dataclass
class Memo:
    """What the hooks of one batch of alert deliveries read once instead of per incident:
    the incidents the batch created (none has an escalation yet), the frozen plans, and
    each service's maintenance windows; and the firings to enqueue once it commits."""

    new: set[int] = field(default_factory=set)
    plans: dict[int, dict] = field(default_factory=dict)
    # service id -> (the earliest instant asked about, its windows not over by then)
    windows: dict[int, tuple[datetime, list[MaintenanceWindow]]] = field(default_factory=dict)
    due: list[tuple[int, str, datetime | None]] = field(default_factory=list)
    # schedule id -> (who is on call, from, until): one lookup per schedule and shift
    oncall: dict[int, tuple[list, datetime, datetime]] = field(default_factory=dict)

    def window(self, service_id: int, at: datetime) -> MaintenanceWindow | None:
        """The window active at `at` on the service that ends last (starts_at <= at <
        ends_at, as MaintenanceWindow.objects.active_at), from one query per service."""
        since, windows = self.windows.get(service_id, (None, None))
        if since is None or at < since:
            windows = list(
                MaintenanceWindow.objects.filter(services=service_id, ends_at__gt=at).order_by(
                    "-ends_at"
                )
            )
            self.windows[service_id] = (at, windows)
        return next((w for w in windows if w.starts_at <= at < w.ends_at), None)

    def oncall_users(self, oncall_at_many, *, schedule_id: int, at: datetime) -> list:
        """`oncall.selectors.oncall_users`, asked once per schedule for as long as its answer
        holds: oncall_at_many's shift is never longer than the truth (changes made while
        the batch runs count from the next batch, as for maintenance windows)."""
        users, since, until = self.oncall.get(schedule_id, ([], at, at))
        if not since <= at < until:
            shift = oncall_at_many([schedule_id], at).get(schedule_id)
            users = list(get_user_model().objects.filter(username=shift.user)) if shift else []
            self.oncall[schedule_id] = (users, at, shift.end if shift else at)
        return users

    def enqueue_after_commit(self) -> None:
        """One message for every firing due at once (a storm's new incidents, whose first
        step pages immediately), one ETA message per later firing."""
        if self.due:
            due, self.due = self.due, []
            transaction.on_commit(lambda: _enqueue_many(due))


def escalation_follow(appended: events.Appended, new: set[int] | None) -> None:
    """The timeline's follower (registered in IncidentsConfig.ready): escalation starts,
    stops and restarts with the incident's lifecycle. A batch's events share one Memo, so
    each service's maintenance windows are read once, and its firings go out together after
    commit."""
    if new is None:
        for incident, event in appended:
            escalation_on_event(incident=incident, event=event)
        return
    memo = Memo(new=new)
    for incident, event in appended:
        escalation_on_event(incident=incident, event=event, memo=memo)
    memo.enqueue_after_commit()


def escalation_on_event(*, incident: Incident, event, memo: Memo | None = None) -> None:
    """Called for every appended timeline event (incidents.timeline.events)."""
    if event.kind in STOP_KINDS:
        escalation_stop(incident=incident, at=event.at)
    elif event.kind in START_KINDS:
        if event.kind == "triggered" and incident.service.escalation_policy_id is None:
            return  # a new incident of a service nobody is paged for: no queries
        escalation_start(incident=incident, at=event.at, memo=memo)


def escalation_start(
    *, incident: Incident, at: datetime, memo: Memo | None = None
) -> IncidentEscalation | None:
    """Start (or restart from the first step) the incident's escalation.

    The first start freezes the service's policy onto the incident; restarts (reopen,
    un-acknowledge) run the same frozen copy. No policy, no escalation.
    """
    batch, memo = memo, memo or Memo()
    if incident.pk in memo.new:
        memo.new.discard(incident.pk)  # from now on it may have one
        escalation = None
    else:
        escalation = IncidentEscalation.objects.filter(incident=incident).first()
    if escalation is None:
        policy_id = incident.service.escalation_policy_id
        if policy_id is None:
            return None
        if policy_id not in memo.plans:
            policy = EscalationPolicy.objects.get(pk=policy_id)
            memo.plans[policy_id] = policy_plan(policy).to_json()
        escalation = IncidentEscalation(
            incident=incident, policy_id=policy_id, snapshot=memo.plans[policy_id]
        )
    plan = Plan.from_json(escalation.snapshot)
    escalation.step_index = escalation.round = 0
    escalation.started_at = at
    escalation.last_fired_at = None
    escalation.held_window_id = None
    escalation.state = EscalationState.ACTIVE
    escalation.next_fire_at = at + (plan.delay(Position(0, 0)) if plan.steps else timedelta(0))
    window = memo.window(incident.service_id, at)
    if window is not None:
        _hold(escalation=escalation, incident=incident, window=window, at=at)
    _schedule(escalation, batch)
    return escalation


def escalation_stop(*, incident: Incident, at: datetime) -> None:
    IncidentEscalation.objects.filter(incident=incident, state__in=RUNNING).update(
        state=EscalationState.STOPPED, next_fire_at=None, token="", updated_at=at
    )


def _schedule(escalation: IncidentEscalation, memo: Memo | None = None) -> None:
    """Save with a new token and enqueue its ETA task after commit (with a batch's memo:
    when the batch commits, see Memo.enqueue_after_commit)."""
    escalation.token = uuid.uuid4().hex
    escalation.save()
    escalation_id, token, eta = escalation.pk, escalation.token, escalation.next_fire_at
    if memo is not None:
        memo.due.append((escalation_id, token, eta))
    else:
        transaction.on_commit(lambda: _enqueue(escalation_id, token, eta))


def _enqueue_many(due: list[tuple[int, str, datetime | None]]) -> None:
    now = timezone.now()
    at_once = [[pk, token] for pk, token, eta in due if eta is None or eta <= now]
    if at_once:
        try:
            current_app.send_task(task_names.ESCALATE_MANY, args=[at_once], retry=False)
        except Exception:
            count = len(at_once)
            log.warning("could not enqueue %d escalations; the auditor will fire them", count)
    for escalation_id, token, eta in due:
        if eta is not None and eta > now:
            _enqueue(escalation_id, token, eta)


def _enqueue(escalation_id: int, token: str, eta: datetime | None) -> None:
    try:
        current_app.send_task(
            task_names.ESCALATE, args=[escalation_id, token], eta=eta, retry=False
        )
    except Exception:
        log.warning("could not enqueue escalation %s; the auditor will fire it", escalation_id)


# --- firing -----------------------------------------------------------------------------------


def escalation_advance(
    *, escalation_id: int, token: str, now: datetime | None = None, memo: Memo | None = None
) -> str:
    """Fire the escalation's pending step if `token` is still current and it is due.

    Returns what happened: fired, exhausted, held, released, not_due, stale or gone.
    `memo`: shared by the firings of one batch, which then read each service's maintenance
    windows once (a window created while the batch runs holds only the later firings).
    """
    now = now or timezone.now()
    incident_id = (
        IncidentEscalation.objects.filter(pk=escalation_id)
        .values_list("incident_id", flat=True)
        .first()
    )
    if incident_id is None:
        return "gone"
    with transaction.atomic():
        # Same lock order as every incident write (incident, then escalation): no deadlock
        # with an acknowledgement racing this step.
        incident = (
            Incident.objects.select_related("service")
            .select_for_update(of=("self",))
            .get(pk=incident_id)
        )
        escalation = IncidentEscalation.objects.select_for_update().get(pk=escalation_id)
        if escalation.state not in RUNNING or escalation.token != token:
            return "stale"
        if incident.status != IncidentStatus.TRIGGERED:
            escalation_stop(incident=incident, at=now)
            return "stale"
        if escalation.next_fire_at > now + _EARLY:
            transaction.on_commit(lambda: _enqueue(escalation_id, token, escalation.next_fire_at))
            return "not_due"
        window = (memo or Memo()).window(incident.service_id, now)
        if window is not None:
            _hold(escalation=escalation, incident=incident, window=window, at=now)
            _schedule(escalation)
            return "held"
        if escalation.state == EscalationState.HELD:
            return _release(escalation=escalation, incident=incident, now=now, memo=memo)
        return _fire(escalation=escalation, incident=incident, now=now, memo=memo)


def escalations_advance(*, pairs: list[tuple[int, str]], now: datetime | None = None) -> list[str]:
    """`escalation_advance` for each (id, token); a failure is logged and the rest go on
    (beat's auditor fires what failed once it is overdue)."""
    outcomes = []
    memo = Memo()
    for escalation_id, token in pairs:
        try:
            outcomes.append(
                escalation_advance(escalation_id=escalation_id, token=token, now=now, memo=memo)
            )
        except Exception:
            log.exception("escalation %s failed; the auditor will retry it", escalation_id)
            outcomes.append("failed")
    return outcomes


def _release(
    *, escalation: IncidentEscalation, incident: Incident, now: datetime, memo: Memo | None = None
) -> str:
    """Maintenance is over: start paging. A chain that never fired waits its first delay
    from now; one paused mid-way fires its pending step at once."""
    plan = Plan.from_json(escalation.snapshot)
    escalation.state = EscalationState.ACTIVE
    escalation.held_window_id = None
    position = Position(escalation.step_index, escalation.round)
    delay = plan.delay(position) if escalation.last_fired_at is None and plan.steps else None
    if delay:
        escalation.next_fire_at = now + delay
        _schedule(escalation)
        return "released"
    return _fire(escalation=escalation, incident=incident, now=now, memo=memo)


def _fire(
    *, escalation: IncidentEscalation, incident: Incident, now: datetime, memo: Memo | None = None
) -> str:
    plan = Plan.from_json(escalation.snapshot)
    position = Position(escalation.step_index, escalation.round)
    if not plan.steps:
        _page_fallback(plan=plan, incident=incident, now=now, why="the policy has no steps")
        return _exhaust(escalation=escalation, incident=incident, now=now)
    label = plan.describe(position)
    users, unresolved = _step_users(plan.steps[position.step], at=now, memo=memo)
    reached = _page(users=users, incident=incident, now=now, why=f"escalation {label}")
    names = [u.username for u in users]
    events.escalated(
        incident=incident,
        at=now,
        step=position.step + 1,
        round=position.round + 1,
        targets=names,
        summary=f"escalated to {label}: {', '.join(names) or 'nobody'}",
    )
    unreachable = [u.username for u in users if u.pk not in reached]
    problems = unresolved + [
        f"{name} has no contact method for escalations" for name in unreachable
    ]
    if not reached:
        _page_fallback(
            plan=plan, incident=incident, now=now, why=f"{label} reached nobody", problems=problems
        )
    elif problems:
        events.escalation_warning(
            incident=incident, at=now, summary=f"{label}: " + "; ".join(problems), fallback=None
        )
    escalation.last_fired_at = now
    following = plan.following(position)
    if following is None:
        return _exhaust(escalation=escalation, incident=incident, now=now)
    escalation.step_index, escalation.round = following.step, following.round
    escalation.next_fire_at = now + plan.delay(following)
    _schedule(escalation)
    return "fired"


def _exhaust(*, escalation: IncidentEscalation, incident: Incident, now: datetime) -> str:
    escalation.state = EscalationState.EXHAUSTED
    escalation.next_fire_at = None
    escalation.token = ""
    escalation.save()
    events.escalation_exhausted(
        incident=incident,
        at=now,
        summary="every step has been paged and nobody acknowledged: escalation stopped",
    )
    return "exhausted"


def _step_users(step: Step, *, at: datetime, memo: Memo | None = None) -> tuple[list, list[str]]:
    users: dict[int, object] = {}
    unresolved: list[str] = []
    for target in step.targets:
        found = resolve_targets(target, at, memo)
        if not found:
            unresolved.append(
                f"schedule {target.schedule_id} has nobody on call"
                if target.schedule_id is not None
                else f"user {target.user_id} is gone or inactive"
            )
        for user in found:
            users.setdefault(user.pk, user)
    return list(users.values()), unresolved


def _page(*, users: list, incident: Incident, now: datetime, why: str, fallback=False) -> set:
    """Start each user's notification rules for the incident; the ids of those reached."""
    reason = NotificationReason.FALLBACK if fallback else NotificationReason.ESCALATION
    return pages.users_page(users=users, incident=incident, reason=reason, why=why, at=now)


def _page_fallback(
    *, plan: Plan, incident: Incident, now: datetime, why: str, problems: list[str] = ()
) -> None:
    """Never wait silently: page the policy's fallback and say so on the timeline."""
    detail = f"{why} ({'; '.join(problems)})" if problems else why
    fallback = None
    if plan.fallback_user_id is not None:
        fallback = resolve_targets(Target(user_id=plan.fallback_user_id), now)
    if not fallback:
        summary = f"{detail}; no fallback could be paged"
        events.escalation_warning(incident=incident, at=now, summary=summary, fallback=None)
        return
    user = fallback[0]
    reached = _page(users=[user], incident=incident, now=now, why=why, fallback=True)
    outcome = "paged" if reached else "has no contact method, nobody was paged"
    summary = f"{detail}; fallback {user.username} {outcome}"
    events.escalation_warning(incident=incident, at=now, summary=summary, fallback=user.username)


# --- maintenance ------------------------------------------------------------------------------


def _hold(
    *, escalation: IncidentEscalation, incident: Incident, window: MaintenanceWindow, at: datetime
) -> None:
    escalation.state = EscalationState.HELD
    escalation.next_fire_at = window.ends_at
    if escalation.held_window_id != window.pk:
        escalation.held_window_id = window.pk
        events.in_maintenance(
            incident=incident,
            at=at,
            window_id=window.pk,
            reason=window.reason,
            ends_at=window.ends_at,
        )


def escalations_release(*, service_ids: list[int], now: datetime) -> int:
    """A window was cut short: re-check held escalations of its services now."""
    held = list(
        IncidentEscalation.objects.filter(
            state=EscalationState.HELD,
            incident__service_id__in=service_ids,
            next_fire_at__gt=now,
        )
    )
    for escalation in held:
        escalation.next_fire_at = now
        _schedule(escalation)
    return len(held)


# --- the auditor ------------------------------------------------------------------------------


def escalations_audit(*, now: datetime | None = None) -> int:
    """Beat safety net: fire what is overdue because its ETA task was lost (killed worker,
    broker restart). Goes through the same token check, so it never double-pages."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.PAGERLINE_ESCALATION_OVERDUE_SECONDS)
    due = list(
        IncidentEscalation.objects.filter(state__in=RUNNING, next_fire_at__lte=overdue)
        .order_by("next_fire_at")
        .values_list("pk", "token")[:500]
    )
    fired = 0
    for (escalation_id, _), outcome in zip(
        due, escalations_advance(pairs=due, now=now), strict=True
    ):
        if outcome not in {"stale", "gone", "not_due", "failed"}:
            log.warning("auditor re-drove escalation %s: %s", escalation_id, outcome)
            fired += 1
    return fired
