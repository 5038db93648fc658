"""Escalation policy writes for managers: create, change (all of it, or some fields), delete.

The shape of the input is checked by incidents.escalation.policy_input (pure); here, against the
database: targets and the fallback are members of the policy's team who can acknowledge
(responders and managers), schedules belong to the team, names are unique in the team.
Every change is audited. An incident's running escalation keeps the copy of the policy
frozen when it triggered (IncidentEscalation.snapshot): edits reach new incidents only.
"""

from __future__ import annotations

from django.db import transaction

from core.audit import audit_record, diff
from core.errors import FieldErrors
from incidents.escalation import policy_input
from incidents.escalation.policy_input import StepInput
from incidents.models import EscalationPolicy, EscalationStep, EscalationTarget, Service
from oncall.models import Membership, Schedule, Team
from oncall.permissions import RESPONDING_ROLES


class PolicyInUse(Exception):
    """The policy still pages for these services; they need another policy first."""

    def __init__(self, services: list[Service]):
        self.services = services
        names = ", ".join(service.name for service in services)
        super().__init__(
            f"The policy is used by {names}: choose another policy for "
            f"{'it' if len(services) == 1 else 'them'} first."
        )


def _resolve(*, team: Team, parsed: dict[str, object]) -> dict[str, object]:
    """The users the parsed input names, by username (two queries at most); raises
    FieldErrors naming every target that is not in the team."""
    steps: tuple[StepInput, ...] = parsed.get("steps", ())
    names = {t.user for step in steps for t in step.targets if t.user is not None}
    if parsed.get("fallback_user"):
        names.add(parsed["fallback_user"])
    schedule_ids = {t.schedule for step in steps for t in step.targets if t.schedule is not None}
    members = {}
    if names:
        members = {
            m.user.get_username(): m
            for m in Membership.objects.filter(
                team=team, user__username__in=names, user__is_active=True
            ).select_related("user")
        }
    schedules = set()
    if schedule_ids:
        schedules = set(
            Schedule.objects.filter(team=team, pk__in=schedule_ids).values_list("pk", flat=True)
        )

    def member_problem(name: str) -> str | None:
        membership = members.get(name)
        if membership is None:
            return f"{name!r} is not an active member of team {team.name}."
        # A viewer could not acknowledge, so paging one would page nobody.
        if membership.role not in RESPONDING_ROLES:
            return (
                f"{name} is a viewer of team {team.name} and could not acknowledge: "
                "page responders or managers."
            )
        return None

    errors: dict[str, str] = {}
    for i, step in enumerate(steps):
        for j, target in enumerate(step.targets):
            where = f"steps[{i}].targets[{j}]"
            if target.user is not None:
                problem = member_problem(target.user)
                if problem:
                    errors[f"{where}.user"] = problem
            elif target.schedule not in schedules:
                errors[f"{where}.schedule"] = (
                    f"No schedule with id {target.schedule} in team {team.name}."
                )
    if parsed.get("fallback_user"):
        problem = member_problem(parsed["fallback_user"])
        if problem:
            errors["fallback_user"] = problem
    if errors:
        raise FieldErrors(errors)
    return {name: membership.user for name, membership in members.items()}


def _check_name(*, team: Team, name: str, policy: EscalationPolicy | None = None) -> None:
    same = EscalationPolicy.objects.filter(team=team, name__iexact=name)
    if policy is not None:
        same = same.exclude(pk=policy.pk)
    if same.exists():
        raise FieldErrors({"name": f"Team {team.name} already has a policy named {name!r}."})


def _write_steps(policy: EscalationPolicy, steps: tuple[StepInput, ...], users: dict) -> None:
    policy.steps.all().delete()
    rows = EscalationStep.objects.bulk_create(
        EscalationStep(policy=policy, position=i, delay_seconds=step.delay_seconds)
        for i, step in enumerate(steps)
    )
    EscalationTarget.objects.bulk_create(
        EscalationTarget(
            step=row,
            user=users[target.user] if target.user is not None else None,
            schedule_id=target.schedule,
        )
        for row, step in zip(rows, steps, strict=True)
        for target in step.targets
    )


def policy_plain(policy: EscalationPolicy) -> dict[str, object]:
    """The policy as plain values, for the audit log (what changed) and for comparisons."""
    steps = policy.steps.prefetch_related("targets__user").order_by("position", "id")
    return {
        "name": policy.name,
        "repeat": policy.repeat,
        "fallback_user": policy.fallback_user.get_username() if policy.fallback_user else None,
        "steps": [
            {
                "delay_seconds": step.delay_seconds,
                "targets": [
                    f"user:{t.user.get_username()}" if t.user_id else f"schedule:{t.schedule_id}"
                    for t in step.targets.all()
                ],
            }
            for step in steps
        ],
    }


@transaction.atomic
def policy_create(
    *,
    actor,
    team: Team,
    name: object,
    steps: object,
    repeat: object = 0,
    fallback_user: object = None,
) -> EscalationPolicy:
    parsed = policy_input.parse(
        {"name": name, "repeat": repeat, "fallback_user": fallback_user, "steps": steps}
    )
    users = _resolve(team=team, parsed=parsed)
    _check_name(team=team, name=parsed["name"])
    fallback = parsed["fallback_user"]
    policy = EscalationPolicy.objects.create(
        team=team,
        name=parsed["name"],
        repeat=parsed["repeat"],
        fallback_user=users[fallback] if fallback else None,
    )
    _write_steps(policy, parsed["steps"], users)
    audit_record(
        actor=actor,
        action="escalation_policy.created",
        obj=policy,
        team_id=team.pk,
        summary=f"escalation policy {policy.name!r} created",
        changes=policy_plain(policy),
    )
    return policy


@transaction.atomic
def policy_update(*, actor, policy: EscalationPolicy, **fields: object) -> EscalationPolicy:
    """Change the given fields (any of name, repeat, fallback_user, steps); `steps` replaces
    every step. Incidents already escalating keep their frozen copy."""
    unknown = sorted(set(fields) - set(policy_input.FIELDS))
    if unknown:
        raise FieldErrors({field: "Cannot be changed." for field in unknown})
    parsed = policy_input.parse(fields)
    # One change at a time: two managers saving at once must not interleave their steps.
    policy = (
        EscalationPolicy.objects.select_for_update(of=("self",))
        .select_related("team", "fallback_user")
        .get(pk=policy.pk)
    )
    users = _resolve(team=policy.team, parsed=parsed)
    if "name" in parsed:
        _check_name(team=policy.team, name=parsed["name"], policy=policy)
    before = policy_plain(policy)
    if "name" in parsed:
        policy.name = parsed["name"]
    if "repeat" in parsed:
        policy.repeat = parsed["repeat"]
    if "fallback_user" in parsed:
        fallback = parsed["fallback_user"]
        policy.fallback_user = users[fallback] if fallback else None
    policy.save()
    if "steps" in parsed:
        _write_steps(policy, parsed["steps"], users)
    changes = diff(before, policy_plain(policy))
    if changes:
        audit_record(
            actor=actor,
            action="escalation_policy.updated",
            obj=policy,
            team_id=policy.team_id,
            summary=f"escalation policy {policy.name!r} updated",
            changes=changes,
        )
    return policy


@transaction.atomic
def policy_delete(*, actor, policy: EscalationPolicy) -> None:
    """Delete a policy no service uses (PolicyInUse otherwise). Escalations it started keep
    running from their snapshots."""
    # Locked, so a service cannot be given the policy between the check and the delete
    # (config.service_update locks the policy it assigns).
    policy = EscalationPolicy.objects.select_for_update().get(pk=policy.pk)
    services = list(Service.objects.filter(escalation_policy=policy).order_by("name"))
    if services:
        raise PolicyInUse(services)
    audit_record(
        actor=actor,
        action="escalation_policy.deleted",
        obj=policy,
        team_id=policy.team_id,
        summary=f"escalation policy {policy.name!r} deleted",
        changes=policy_plain(policy),
    )
    policy.delete()
