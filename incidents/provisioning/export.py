"""The configuration of some teams as a provisioning document (incidents.provisioning.document):
what `provision export` writes and what a plan compares the file with. Objects are named
by natural keys; tokens, contact methods and notification rules are never read here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from incidents.models import EscalationPolicy, Integration, MaintenanceWindow, Service
from incidents.provisioning import document
from oncall.models import Override, Schedule, Team


def _email(user) -> str:
    # Documents name people by email; one without an email keeps their username, so the
    # reference stays visible (and applying it elsewhere names who is unknown).
    return (user.email or user.get_username()).lower()


def _wallclock(day, at) -> datetime:
    return datetime.combine(day, at)


def _schedule(schedule: Schedule, now: datetime) -> dict:
    layers = []
    for layer in schedule.layers.order_by("position").prefetch_related("memberships__user"):
        end = None
        if layer.end_date is not None:
            end = document.wallclock_text(_wallclock(layer.end_date, layer.end_time))
        layers.append(
            {
                "name": layer.name,
                "participants": [_email(p.user) for p in layer.memberships.all()],
                "unit": layer.rotation_unit,
                "every": layer.rotation_every,
                "handoff": document.wallclock_text(
                    _wallclock(layer.handoff_date, layer.handoff_time)
                ),
                "end": end,
                "restrictions": layer.restrictions,
            }
        )
    # Ended overrides are history, not configuration.
    overrides = Override.objects.filter(schedule=schedule, end__gt=now).select_related(
        "user", "replaces"
    )
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "handoff_notice_seconds": schedule.handoff_notice_seconds,
        "layers": layers,
        "overrides": [
            {
                "user": _email(o.user),
                "start": document.instant_text(o.start),
                "end": document.instant_text(o.end),
                "replaces": _email(o.replaces) if o.replaces_id else None,
            }
            for o in overrides
        ],
    }


def _policy(policy: EscalationPolicy, schedule_names: dict[int, str]) -> dict:
    steps = policy.steps.order_by("position", "id").prefetch_related("targets__user")
    return {
        "name": policy.name,
        "repeat": policy.repeat,
        "fallback_user": _email(policy.fallback_user) if policy.fallback_user_id else None,
        "steps": [
            {
                "delay_seconds": step.delay_seconds,
                "targets": [
                    {"user": _email(t.user)}
                    if t.user_id
                    else {"schedule": schedule_names.get(t.schedule_id, f"#{t.schedule_id}")}
                    for t in step.targets.all()
                ],
            }
            for step in steps
        ],
    }


def _integration(integration: Integration) -> dict:
    return {
        "name": integration.name,
        "source": integration.source,
        "enabled": integration.enabled,
        "reopen_window_seconds": integration.reopen_window_seconds,
        "heartbeat_interval_seconds": integration.heartbeat_interval_seconds,
        "options": integration.options,
        "routing": [
            {"matchers": rule.matchers, "service": rule.service.slug}
            for rule in integration.routing_rules.order_by("position", "id").select_related(
                "service"
            )
        ],
        "heartbeats": [
            {
                "name": beat.name,
                "interval_seconds": beat.interval_seconds,
                "description": beat.description,
                "enabled": beat.enabled,
            }
            for beat in integration.named_heartbeats.order_by("name")
        ],
    }


def _service(service: Service) -> dict:
    return {
        "slug": service.slug,
        "name": service.name,
        "description": service.description,
        "high_urgency_severities": service.high_urgency_severities,
        "slack_channel": service.slack_channel,
        "escalation_policy": service.escalation_policy.name
        if service.escalation_policy_id
        else None,
        "integrations": [_integration(i) for i in service.integrations.all()],
    }


def team_document(team: Team, *, now: datetime) -> dict:
    schedules = list(Schedule.objects.filter(team=team))
    schedule_names = {s.pk: s.name for s in schedules}
    windows = MaintenanceWindow.objects.filter(
        team=team, ends_at__gt=now, cancelled_at__isnull=True
    ).prefetch_related("services")
    return {
        "slug": team.slug,
        "name": team.name,
        "time_zone": team.time_zone,
        "members": [
            {"email": _email(m.user), "role": m.role}
            for m in team.memberships.select_related("user")
        ],
        "schedules": [_schedule(s, now) for s in schedules],
        "escalation_policies": [
            _policy(p, schedule_names)
            for p in EscalationPolicy.objects.filter(team=team).select_related("fallback_user")
        ],
        "services": [
            _service(s)
            for s in Service.objects.filter(team=team).select_related("escalation_policy")
        ],
        "maintenance_windows": [
            {
                "services": [s.slug for s in w.services.all()],
                "starts_at": w.starts_at,
                "ends_at": w.ends_at,
                "reason": w.reason,
            }
            for w in windows
        ],
    }


def export(*, teams: Iterable[Team] | None = None, now: datetime | None = None) -> dict:
    """The canonical document of `teams` (default: every team), sorted so it diffs well."""
    now = now or timezone.now()
    teams = Team.objects.order_by("slug") if teams is None else teams
    return document.canonical(
        {"version": document.VERSION, "teams": [team_document(t, now=now) for t in teams]}
    )
